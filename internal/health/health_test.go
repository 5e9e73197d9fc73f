package health

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fedora-infra/fedmsg-collectd/internal/hubmon"
	"github.com/fedora-infra/fedmsg-collectd/internal/putval"
)

var (
	t0      = time.Unix(1795516100, 0)
	testHub = hubmon.Endpoint{Service: "fedmsg-hub", Addr: "ipc:///var/run/fedmsg/monitoring-fedmsg-hub.socket"}
)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func snap(s float64) hubmon.Snapshot {
	return hubmon.Snapshot{Arrival: at(s), Period: 5 * time.Second}
}

// values returns the liveness values of the only batch, or nil.
func values(t *testing.T, bs []putval.Batch) []float64 {
	t.Helper()
	switch len(bs) {
	case 0:
		return nil
	case 1:
		if bs[0].Service != testHub.Service || bs[0].Host != "h" {
			t.Errorf("batch for %s/%s", bs[0].Host, bs[0].Service)
		}
		return []float64{bs[0].Values[0].Value, bs[0].Values[1].Value}
	}
	t.Fatalf("%d batches", len(bs))
	return nil
}

// TestTracker walks a hub through start, life, loss and recovery.
func TestTracker(t *testing.T) {
	tr := &Tracker{IdlePeriods: 3, Host: "h"}
	type step struct {
		heard     float64 // a snapshot arrives at this second, or
		check     float64 // Check runs at this second
		values    []float64
		severity  string
		msgSubstr string
	}
	steps := []step{
		{check: 0},  // not heard yet: nothing, no alarm
		{check: 10}, // within 15 s grace
		{heard: 12}, // first snapshot: no okay (never lost)
		{check: 14, values: []float64{1, 2}},
		{heard: 17},
		{check: 30, values: []float64{1, 13}},
		{check: 33, values: []float64{0, 16}, severity: putval.Failure, msgSubstr: "no snapshot on ipc:///var/run/fedmsg/monitoring-fedmsg-hub.socket for 16s"},
		{check: 40, values: []float64{0, 23}}, // still down: no repeat
		{heard: 41, severity: putval.Okay, msgSubstr: "heard again on ipc:///var/run/fedmsg/monitoring-fedmsg-hub.socket after 24s of silence"},
		{check: 42, values: []float64{1, 1}},
	}
	for i, s := range steps {
		var (
			notes []putval.Notification
			got   []float64
		)
		if s.heard > 0 {
			notes = tr.Heard(testHub, snap(s.heard))
		} else {
			var bs []putval.Batch
			bs, notes = tr.Check(at(s.check), []hubmon.Endpoint{testHub}, 10*time.Second)
			got = values(t, bs)
		}
		if d := cmp.Diff(s.values, got); d != "" {
			t.Errorf("step %d: values (-want +got):\n%s", i, d)
		}
		if s.severity == "" {
			if len(notes) > 0 {
				t.Errorf("step %d: unexpected notification %+v", i, notes)
			}
			continue
		}
		if len(notes) != 1 || notes[0].Severity != s.severity || !strings.Contains(notes[0].Message, s.msgSubstr) {
			t.Errorf("step %d: notifications %+v, want one %s with %q", i, notes, s.severity, s.msgSubstr)
			continue
		}
		n := notes[0]
		if n.Host != "h" || n.Service != testHub.Service || n.Type != UpType || n.TypeInstance != UpInstance {
			t.Errorf("step %d: notification about %+v", i, n)
		}
	}
}

// TestTrackerNeverHeard: a hub that never speaks raises one failure after
// the grace time, then reports 0 and the time since monitoring began.
func TestTrackerNeverHeard(t *testing.T) {
	tr := &Tracker{IdlePeriods: 3, Host: "h"}
	tr.Check(at(0), []hubmon.Endpoint{testHub}, time.Second)
	bs, notes := tr.Check(at(16), []hubmon.Endpoint{testHub}, time.Second)
	if len(notes) != 1 || !strings.Contains(notes[0].Message, "since monitoring started 16s ago") {
		t.Errorf("notifications %+v", notes)
	}
	if d := cmp.Diff([]float64{0, 16}, values(t, bs)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestTrackerPeriodAndForget: the grace follows the hub's measured period,
// and a hub no longer watched is forgotten (no alarm when it goes away).
func TestTrackerPeriodAndForget(t *testing.T) {
	tr := &Tracker{IdlePeriods: 3, Host: "h"}
	s := snap(0)
	s.Period = time.Second
	tr.Heard(testHub, s)
	if _, notes := tr.Check(at(2.9), []hubmon.Endpoint{testHub}, time.Second); len(notes) != 0 {
		t.Errorf("alarm within 3 periods of 1s: %+v", notes)
	}
	if _, notes := tr.Check(at(3.1), []hubmon.Endpoint{testHub}, time.Second); len(notes) != 1 {
		t.Errorf("no alarm after 3 periods of 1s")
	}
	bs, notes := tr.Check(at(100), nil, time.Second)
	if len(bs) != 0 || len(notes) != 0 || len(tr.hubs) != 0 {
		t.Errorf("forgotten hub: %v %v %v", bs, notes, tr.hubs)
	}
}
