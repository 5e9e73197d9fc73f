package zabbix

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// TestDiscoveryRetried: while the server fails values (a discovery that
// reached it before it knew the host made no items), the discovery is
// pushed again every lldRetry; once values pass, only every lldEvery.
func TestDiscoveryRetried(t *testing.T) {
	s := NewSink("h", 1000, Cadence{})
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

// TestFailedAtStart: some values the server fails just after a discovery
// with new rows are said for what they are (items not made yet), at INFO;
// failed long after it, or all of a request (no such host, a template not
// linked, a host that refuses the push unencrypted), they are a WARN that
// names the template.
func TestFailedAtStart(t *testing.T) {
	some := trapper(t, success) // fails one value of each request
	all := trapper(t, func(req []byte) []byte {
		var r request
		json.Unmarshal(req, &r)
		return frame([]byte(fmt.Sprintf(`{"response":"success","info":"processed: 0; failed: %d; total: %d"}`, len(r.Data), len(r.Data))))
	})
	for _, tt := range []struct {
		name, addr string
		ago        time.Duration
		want       string
	}{
		{"just discovered", some, time.Second, "level=INFO msg=\"the Zabbix server failed values of items it has not made yet"},
		{"long after", some, 10 * time.Minute, "level=WARN msg=\"the Zabbix server failed values: items it does not have (is the template linked"},
		{"all of them", all, time.Second, "level=WARN msg=\"the Zabbix server failed values: items it does not have (is the template linked"},
	} {
		addr := tt.addr
		s := NewSink("h", 0, Cadence{})
		at := time.Now().Add(-tt.ago)
		s.Write(report.Update{Snapshots: []report.Batch{batch(3, false)}, Tick: &report.Tick{Time: at, Watched: []string{"hub"}}})
		var log testhub.Buffer
		c := &Sender{Server: addr, Interval: time.Second, Logger: slog.New(slog.NewTextHandler(&log, nil))}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { c.Run(ctx, s); close(done) }()
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(log.String(), "failed values") && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		<-done
		if !strings.Contains(log.String(), tt.want) {
			t.Errorf("%s: the log:\n%s", tt.name, log.String())
		}
	}
}
