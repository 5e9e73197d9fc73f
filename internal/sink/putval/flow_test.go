package putval

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// TestEveryEntryKindWritten: a value of every consumer or producer kind
// the table names is written under its identifier, as given (a Delta
// kind's count since the previous snapshot, as the old script wrote it):
// the table is all a new kind needs.
func TestEveryEntryKindWritten(t *testing.T) {
	t0 := time.Unix(1796216400, 0)
	for _, k := range report.Kinds() {
		id := identOf(k)
		if k.Scope() != report.Entry || notWritten(k) {
			continue
		}
		var out bytes.Buffer
		s := NewSink(&out, "h")
		for i, v := range []float64{2, 3} {
			b := report.Batch{Service: "svc", Time: t0.Add(time.Duration(i) * 5 * time.Second), Interval: 5 * time.Second,
				Subjects: []string{"C"}, Consumers: 1, Values: []report.Value{{Kind: k, V: v}}}
			if err := s.Write(report.Update{Snapshots: []report.Batch{b}}); err != nil {
				t.Fatal(err)
			}
		}
		want := `PUTVAL "h/svc/` + id.typ + `-C` + id.instance + `" interval=5.000 1796216405.000:` + strconv.FormatFloat(3*id.scale, 'f', -1, 64) + "\n"
		if !strings.Contains(out.String(), want) {
			t.Errorf("kind %v: no %q in\n%s", k, want, out.String())
		}
	}
}
