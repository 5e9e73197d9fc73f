package analytics

import (
	"fmt"
	"testing"
)

// TestCountsBeginLate: a queue whose first snapshots have its backlog but
// no counts (a broker's queue just made, before its statistics) has the
// same Little's wait, once counted, as one first seen at
// its last snapshot without counts: the curves do not bridge the
// departures no snapshot counted. (They did, and through an overload on
// a real broker Little's wait was 36 % off at the median, not 6 %.)
func TestCountsBeginLate(t *testing.T) {
	// An overload: 20 a second in, 10 out, for two minutes.
	ss := steady(25, 5, 20, 10, 50)
	ss[0].noCounts, ss[1].noCounts = true, true
	late, ref := run(ss), run(ss[1:])
	for i := 2; i < len(ss); i++ {
		got, want := late[i], ref[i-1]
		for _, fig := range []string{"C_wait", "C_expected_wait", "C_drain_time", "C_growth_rate"} {
			g, gok := got[fig]
			w, wok := want[fig]
			if fmt.Sprint(g, gok) != fmt.Sprint(w, wok) {
				t.Errorf("at %g s: %s %v (%v), first seen without counts; %v (%v) first seen later", ss[i].at, fig, g, gok, w, wok)
			}
		}
	}
	if _, ok := late[len(ss)-1]["C_wait"]; !ok {
		t.Fatal("no Little's wait at the end")
	}
}
