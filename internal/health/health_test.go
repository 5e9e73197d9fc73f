package health

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

var (
	t0      = time.Unix(1795516100, 0)
	testHub = model.Endpoint{Service: "fedmsg-hub", Addr: "ipc:///var/run/fedmsg/monitoring-fedmsg-hub.socket"}
)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// values returns the liveness values of the only batch, or nil.
func values(t *testing.T, bs []report.Batch) []float64 {
	t.Helper()
	switch len(bs) {
	case 0:
		return nil
	case 1:
		b := bs[0]
		if b.Service != testHub.Service || b.Values[0].Kind != report.HubUp || b.Values[1].Kind != report.LastSnapshotAge {
			t.Errorf("batch for %s: %+v", b.Service, b.Values)
		}
		return []float64{b.Values[0].V, b.Values[1].V}
	}
	t.Fatalf("%d batches", len(bs))
	return nil
}

// TestTracker walks a hub through start, life, loss and recovery.
func TestTracker(t *testing.T) {
	tr := &Tracker{IdlePeriods: 3}
	type step struct {
		heard     float64 // a snapshot arrives at this second, or
		check     float64 // Check runs at this second
		values    []float64
		severity  report.Severity
		notice    bool
		msgSubstr string
	}
	steps := []step{
		{check: 0},  // not heard yet: nothing, no alarm
		{check: 10}, // within 15 s grace
		{heard: 12}, // first snapshot: no okay (never lost)
		{check: 14, values: []float64{1, 2}},
		{heard: 17},
		{check: 30, values: []float64{1, 13}},
		{check: 33, values: []float64{0, 16}, notice: true, severity: report.Failure, msgSubstr: "no snapshot on ipc:///var/run/fedmsg/monitoring-fedmsg-hub.socket for 16s"},
		{check: 40, values: []float64{0, 23}}, // still down: no repeat
		{heard: 41, notice: true, severity: report.Okay, msgSubstr: "heard again on ipc:///var/run/fedmsg/monitoring-fedmsg-hub.socket after 24s of silence"},
		{check: 42, values: []float64{1, 1}},
	}
	for i, s := range steps {
		var (
			notes []report.Notice
			got   []float64
		)
		if s.heard > 0 {
			notes = tr.Heard(testHub, at(s.heard), 5*time.Second)
		} else {
			var bs []report.Batch
			bs, notes = tr.Check(at(s.check), []model.Watched{{Endpoint: testHub}}, 10*time.Second)
			got = values(t, bs)
		}
		if d := cmp.Diff(s.values, got); d != "" {
			t.Errorf("step %d: values (-want +got):\n%s", i, d)
		}
		if !s.notice {
			if len(notes) > 0 {
				t.Errorf("step %d: unexpected notification %+v", i, notes)
			}
			continue
		}
		if len(notes) != 1 || notes[0].Severity != s.severity || !strings.Contains(notes[0].Message, s.msgSubstr) {
			t.Errorf("step %d: notifications %+v, want one %v with %q", i, notes, s.severity, s.msgSubstr)
			continue
		}
		n := notes[0]
		if n.Service != testHub.Service || n.Kind != report.HubUp {
			t.Errorf("step %d: notification about %+v", i, n)
		}
	}
}

// TestTrackerNeverHeard: a hub that never speaks raises one failure after
// the grace time, then reports 0 and the time since monitoring began.
func TestTrackerNeverHeard(t *testing.T) {
	tr := &Tracker{IdlePeriods: 3}
	tr.Check(at(0), []model.Watched{{Endpoint: testHub}}, time.Second)
	bs, notes := tr.Check(at(16), []model.Watched{{Endpoint: testHub}}, time.Second)
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
	tr := &Tracker{IdlePeriods: 3}
	tr.Heard(testHub, at(0), time.Second)
	if _, notes := tr.Check(at(2.9), []model.Watched{{Endpoint: testHub}}, time.Second); len(notes) != 0 {
		t.Errorf("alarm within 3 periods of 1s: %+v", notes)
	}
	if _, notes := tr.Check(at(3.1), []model.Watched{{Endpoint: testHub}}, time.Second); len(notes) != 1 {
		t.Errorf("no alarm after 3 periods of 1s")
	}
	bs, notes := tr.Check(at(100), nil, time.Second)
	if len(bs) != 0 || len(notes) != 0 || len(tr.hubs) != 0 {
		t.Errorf("forgotten hub: %v %v %v", bs, notes, tr.hubs)
	}
}

// TestTrackerPolled: a broker that never answered is lost after the
// grace time, and its notification says why; it answering is okay.
func TestTrackerPolled(t *testing.T) {
	tr := &Tracker{IdlePeriods: 3}
	broker := model.Watched{Endpoint: model.Endpoint{Service: "fedmsg_rabbitmq", Addr: "http://127.0.0.1:15672"}, Polled: true, LastError: "status 401 Unauthorized"}
	tr.Check(at(0), []model.Watched{broker}, time.Second)
	bs, notes := tr.Check(at(16), []model.Watched{broker}, time.Second)
	if len(bs) != 1 || bs[0].Values[0].V != 0 || len(notes) != 1 || notes[0].Severity != report.Failure ||
		notes[0].Message != "fedmsg_rabbitmq: no fresh figures from http://127.0.0.1:15672 since monitoring started 16s ago (status 401 Unauthorized)" {
		t.Fatalf("batches %+v, notices %+v", bs, notes)
	}
	notes = tr.Heard(broker.Endpoint, at(20), 10*time.Second)
	if len(notes) != 1 || notes[0].Severity != report.Okay || !strings.Contains(notes[0].Message, "fresh figures again from http://127.0.0.1:15672 after 20s") {
		t.Errorf("answering again: %+v", notes)
	}
}
