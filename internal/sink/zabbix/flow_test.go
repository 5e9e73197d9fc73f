package zabbix

import (
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// TestEveryEntryKindPushed: a value of every consumer's kind that is
// pushed goes to its item, keyed by the kind's name in the catalogue, as
// given (Zabbix makes its own rates and sums of a Delta kind's counts):
// the catalogue is all a new kind needs.
func TestEveryEntryKindPushed(t *testing.T) {
	for _, k := range report.Kinds() {
		if k.Scope() != report.Entry || !pushed(k) {
			continue
		}
		s := NewSink("h", 0, Cadence{})
		s.Write(report.Update{Snapshots: []report.Batch{{Service: "svc", Time: t0, Subjects: []string{"C"}, Consumers: 1,
			Values: []report.Value{{Kind: k, V: 3}}}}})
		got := ""
		for _, v := range s.queue.oldest(s.queue.len()) {
			if v.Key == key(k, "svc", "C") {
				got = v.text()
			}
		}
		if got != "3" {
			t.Errorf("kind %v: item %s = %q, want 3", k, key(k, "svc", "C"), got)
		}
	}
}

// TestReasonPushed: a source lost, or heard again, pushes what the
// program said of it to the service's reason item, at the notice's time.
func TestReasonPushed(t *testing.T) {
	s := NewSink("h", 0, Cadence{})
	s.Write(report.Update{Notices: []report.Notice{{Kind: report.HubUp, Severity: report.Failure, Time: t0, Service: "svc",
		Message: "svc: no fresh figures from http://127.0.0.1:1 for 30s (connection refused)"}}})
	var got []value
	for _, v := range s.queue.oldest(s.queue.len()) {
		if v.Key == `fedmsg.hub.reason["svc"]` {
			got = append(got, v)
		}
	}
	if len(got) != 1 || got[0].Value != "svc: no fresh figures from http://127.0.0.1:1 for 30s (connection refused)" || got[0].Clock != t0.Unix() {
		t.Errorf("reason values %+v", got)
	}
	// Again at every tick while it is down (the first may have reached
	// the server before its item), not once it is up.
	n := s.queue.len()
	for i, up := range []float64{0, 0, 1} {
		s.Write(report.Update{Tick: &report.Tick{Time: t0.Add(time.Duration(i+1) * time.Second), Watched: []string{"svc"},
			Liveness: []report.Batch{{Service: "svc", Values: []report.Value{{Kind: report.HubUp, V: up}}}}}})
	}
	again := 0
	for _, v := range s.queue.oldest(s.queue.len())[n:] {
		if v.Key == `fedmsg.hub.reason["svc"]` {
			again++
		}
	}
	if again != 2 {
		t.Errorf("the reason pushed %d times in two ticks down and one up, want 2", again)
	}
	// Not twice at one instant (the server refuses the second): a tick
	// at the notice's own time adds none.
	s.Write(report.Update{Tick: &report.Tick{Time: t0.Add(time.Minute), Watched: []string{"svc"},
		Liveness: []report.Batch{{Service: "svc", Values: []report.Value{{Kind: report.HubUp, V: 0}}}}},
		Notices: []report.Notice{{Kind: report.HubUp, Severity: report.Failure, Time: t0.Add(time.Minute), Service: "svc", Message: "lost"}}})
	at := map[int64]int{}
	for _, v := range s.queue.oldest(s.queue.len()) {
		if v.Key == `fedmsg.hub.reason["svc"]` {
			at[v.Clock*1e9+v.NS]++
			if at[v.Clock*1e9+v.NS] > 1 {
				t.Errorf("two reasons at %d.%09d", v.Clock, v.NS)
			}
		}
	}
}

// TestHeartbeat: a value that has not changed goes again only a
// heartbeat after it went; a changed one goes at once; a service no
// longer watched leaves nothing behind.
func TestHeartbeat(t *testing.T) {
	s := NewSink("h", 0, Cadence{Heartbeat: time.Minute})
	pushes := func(backlog float64, at time.Time) int {
		n := s.queue.len()
		s.Write(report.Update{Snapshots: []report.Batch{{Service: "svc", Time: at, Subjects: []string{"C"}, Consumers: 1,
			Values: []report.Value{{Kind: report.Backlog, V: backlog}}}}})
		k := 0
		for _, v := range s.queue.oldest(s.queue.len())[n:] {
			if v.Key == key(report.Backlog, "svc", "C") {
				k++
			}
		}
		return k
	}
	for i, c := range []struct {
		backlog float64
		after   time.Duration
		want    int
	}{{5, 0, 1}, {5, 10 * time.Second, 0}, {5, 59 * time.Second, 0}, {6, 61 * time.Second, 1}, {6, 62 * time.Second, 0}, {6, 121 * time.Second, 1}} {
		if got := pushes(c.backlog, t0.Add(c.after)); got != c.want {
			t.Errorf("step %d: backlog %v at +%v pushed %d times, want %d", i, c.backlog, c.after, got, c.want)
		}
	}
	s.Write(report.Update{Tick: &report.Tick{Time: t0.Add(time.Hour)}})
	if len(s.last) != 0 {
		t.Errorf("%d items remembered of a service no longer watched", len(s.last))
	}
}
