package promexp

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// TestEveryEntryKindExposed: two snapshots with a value of a consumer's
// kind that has a family of its own give the newer value for a gauge, and
// their sum for a Delta kind (a counter, added up by report.Totals): the
// family table is all a new kind needs.
func TestEveryEntryKindExposed(t *testing.T) {
	for f, fam := range families {
		k := fam.kind
		if fam.labels != byConsumer || k == noKind || k.Info().Type == report.Bucket {
			continue
		}
		s := New(func() time.Time { return t0 })
		for i, v := range []float64{2, 3} {
			b := report.Batch{Service: "svc", Time: t0.Add(time.Duration(i) * 5 * time.Second), Interval: 5 * time.Second,
				Subjects: []string{"C"}, Consumers: 1, Values: []report.Value{{Kind: k, V: v}}}
			s.Write(report.Update{Snapshots: []report.Batch{b}})
		}
		want := 3.0
		if k.Info().Type == report.Delta {
			want = 5
		}
		name := fam.name
		if fam.typ == "counter" {
			name += "_total"
		}
		line := name + `{service="svc",consumer="C"} ` + strconv.FormatFloat(want, 'g', -1, 64) + "\n"
		if out := scrape(t, s, "text/plain"); !strings.Contains(out, line) {
			t.Errorf("family %d, kind %v: no %q in\n%s", f, k, line, out)
		}
	}
}
