package netdata

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// TestEveryChartedKindSet: two snapshots with a value of a consumer's
// kind that a chart shows set its dimension, on the interval, to the newer
// value for a gauge and to their sum for a Delta kind (a counter, added up
// by report.Totals, that Netdata makes a rate of): the chart table is all a
// new kind needs.
func TestEveryChartedKindSet(t *testing.T) {
	for _, c := range consumerCharts {
		for _, d := range c.dims {
			var out bytes.Buffer
			s := New(&out, 1)
			for _, v := range []float64{2, 3} {
				s.Write(report.Update{Snapshots: []report.Batch{{Service: "svc", Time: t0, Subjects: []string{"C"}, Consumers: 1,
					Values: []report.Value{{Kind: d.kind, V: v}}}}})
			}
			s.Write(tick([]report.Batch{{Service: "svc", Values: []report.Value{{Kind: report.HubUp, V: 1}}}}, "svc"))
			want := 3.0
			if d.kind.Info().Type == report.Delta {
				want = 5
			}
			line := "BEGIN fedmsg.svc_C_" + c.suffix + "\nSET " + d.id + " = " + strconv.FormatFloat(math.Round(want*d.unit*d.div), 'f', -1, 64) + "\nEND\n"
			if !strings.Contains(out.String(), line) {
				t.Errorf("kind %v: no %q in\n%s", d.kind, line, out.String())
			}
		}
	}
}
