package zabbix

import (
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// TestDiscoveryRetried: while the server fails values (a discovery that
// reached it before it knew the host made no items), the discovery is
// pushed again every lldRetry; once values pass, only every lldEvery.
func TestDiscoveryRetried(t *testing.T) {
	s := NewSink("h", 1000)
	t0 := time.Unix(1796216400, 0)
	discoveries := func() int {
		vs, first := s.take(1000)
		n := 0
		for _, v := range vs {
			if v.Key == ServicesDiscovery {
				n++
			}
		}
		s.done(first, len(vs), 0)
		return n
	}
	tick := func(at time.Duration) {
		s.Write(report.Update{Tick: &report.Tick{Time: t0.Add(at), Interval: time.Second, Watched: []string{"hub"},
			Liveness: []report.Batch{{Service: "hub", Values: []report.Value{{Kind: report.HubUp, V: 1}}}}}})
	}
	tick(0)
	if n := discoveries(); n != 1 {
		t.Fatalf("first tick: %d discoveries", n)
	}
	vs, first := s.take(1000)
	tick(10 * time.Second)
	s.done(first, len(vs), 3) // the server failed values
	discoveries()
	tick(20 * time.Second)
	if n := discoveries(); n != 0 {
		t.Errorf("%d discoveries within lldRetry", n)
	}
	tick(31 * time.Second)
	if n := discoveries(); n != 1 {
		t.Errorf("values failed: %d discoveries after lldRetry, want 1", n)
	}
	tick(70 * time.Second)
	if n := discoveries(); n != 0 {
		t.Errorf("no failure since: %d discoveries, want none before lldEvery", n)
	}
}
