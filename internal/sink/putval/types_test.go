package putval

import (
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// TestQueueTypeNotice: a broker service's queue types are notified once,
// and again when they change.
func TestQueueTypeNotice(t *testing.T) {
	var out strings.Builder
	s := NewSink(&out, "h")
	at := time.Unix(1796216400, 0)
	b := report.Batch{Service: "fedmsg_rabbitmq-pubsub", Time: at, Interval: 10 * time.Second,
		Subjects: []string{"fmn", "audit", "badges"}, Consumers: 3, Types: []string{"quorum", "stream", "classic"}}
	s.Write(report.Update{Snapshots: []report.Batch{b}})
	b.Time = at.Add(10 * time.Second)
	s.Write(report.Update{Snapshots: []report.Batch{b}})
	want := `PUTNOTIF severity=okay time=1796216400.000 host="h" plugin="fedmsg_rabbitmq" plugin_instance="pubsub" type="count" type_instance="consumers" message="queue types: 1 classic, 1 quorum (fmn), 1 stream (audit)"`
	if n := strings.Count(out.String(), "PUTNOTIF"); n != 1 || !strings.Contains(out.String(), want) {
		t.Errorf("got\n%s\nwant once\n%s", out.String(), want)
	}
	b.Time, b.Types = at.Add(20*time.Second), []string{"quorum", "stream", "quorum"}
	s.Write(report.Update{Snapshots: []report.Batch{b}})
	if !strings.Contains(out.String(), `message="queue types: 2 quorum (fmn, badges), 1 stream (audit)"`) {
		t.Errorf("no notice of the change:\n%s", out.String())
	}
}
