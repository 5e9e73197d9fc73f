package report

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTotals: every Delta kind is added up by subject name, bad values
// add nothing, subjects no longer listed are dropped, and the totals
// before an Add are left as they were.
func TestTotals(t *testing.T) {
	batch := func(subjects []string, vs ...Value) Batch { return Batch{Subjects: subjects, Values: vs} }
	names := []string{"a", "b"}
	t1 := Totals(nil).Add(batch(names, Value{Kind: HeadcountIn, Subject: 0, V: 3}, Value{Kind: Exceptions, Subject: 1, V: 1},
		Value{Kind: Backlog, Subject: 0, V: 100}), names)
	t2 := t1.Add(batch(names, Value{Kind: HeadcountIn, Subject: 0, V: 2}, Value{Kind: HeadcountIn, Subject: 0, V: math.NaN()},
		Value{Kind: HeadcountOut, Subject: 0, V: -4}, Value{Kind: HeadcountOut, Subject: 1, V: math.Inf(1)}, Value{Kind: HeadcountIn, Subject: 7, V: 1}), names)
	got := map[string][3]float64{}
	for n, s := range t2 {
		got[n] = [3]float64{s.Of(HeadcountIn), s.Of(HeadcountOut), s.Of(Exceptions)}
	}
	if d := cmp.Diff(map[string][3]float64{"a": {5, 0, 0}, "b": {0, 0, 1}}, got); d != "" {
		t.Errorf("after two batches (-want +got):\n%s", d)
	}
	if t1["a"].Of(HeadcountIn) != 3 || t1["a"].Of(Backlog) != 0 {
		t.Errorf("the first totals changed: %v", t1)
	}
	if t3 := t2.Add(batch([]string{"b"}), []string{"b"}); len(t3) != 1 || t3["b"].Of(Exceptions) != 1 {
		t.Errorf("a listed subject without values keeps its totals, an unlisted one goes: %v", t3)
	}
	for _, k := range DeltaKinds() {
		if k.Info().Type != Delta {
			t.Errorf("%v is not a Delta", k)
		}
	}
}
