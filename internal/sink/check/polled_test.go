package check

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// fakePolled delivers n snapshots of a queue with no consumer, a poll
// every 300 ms as a broker polled often would, then nothing.
type fakePolled struct{ n int }

func (f fakePolled) Run(ctx context.Context, deliver func(model.Message)) {
	t0 := time.Unix(1796216400, 0)
	poll := time.NewTicker(300 * time.Millisecond)
	defer poll.Stop()
	for i := range f.n {
		if i > 0 {
			select {
			case <-ctx.Done():
				return
			case <-poll.C:
			}
		}
		deliver(model.Message{Endpoint: model.Endpoint{Service: "fedmsg_rabbitmq-default"}, Arrival: t0.Add(time.Duration(i) * 5 * time.Second),
			Period: 5 * time.Second, Snapshot: &model.Snapshot{Consumers: []model.Consumer{{Name: "q", Initialized: true,
				Backlog: model.Some(3), Workers: model.Some(0), HeadcountIn: model.Some(1), HeadcountOut: model.Some(0)}}}})
	}
	<-ctx.Done()
}
func (fakePolled) Watched() []model.Watched {
	return []model.Watched{{Endpoint: model.Endpoint{Service: "fedmsg_rabbitmq-default", Addr: "http://broker#/"}, Polled: true, LastError: "status 500"}}
}

// TestProbePolled: a polled target: enough snapshots are checked (a queue without
// consumers is CRITICAL under the default range); too few are UNKNOWN
// with the poller's last error.
func TestProbePolled(t *testing.T) {
	var spec Spec
	spec.Consumers = []string{"q"}
	spec.Workers.Crit, _ = ParseRange("1:")
	res := Probe(context.Background(), Target{Source: fakePolled{n: 3}, Endpoint: "http://broker", Polled: true}, 5*time.Second, spec)
	if res.Status != Critical || !strings.Contains(res.Problems[0], "q consumers 0") {
		t.Errorf("three snapshots: %v %v", res.Status, res.Problems)
	}
	spec.Wait.Warn, _ = ParseRange("300") // two snapshots needed
	res = Probe(context.Background(), Target{Source: fakePolled{n: 1}, Endpoint: "http://broker", Polled: true}, 500*time.Millisecond, spec)
	if res.Status != Unknown || !strings.Contains(res.Problems[0], "1 of the 2 polls") || !strings.Contains(res.Problems[0], "status 500") {
		t.Errorf("one snapshot: %v %v", res.Status, res.Problems)
	}
}

// refusing is a broker that refuses the check's credentials.
type refusing struct{ fakePolled }

func (refusing) Run(ctx context.Context, deliver func(model.Message)) { <-ctx.Done() }
func (refusing) Hopeless() string                                     { return "status 401 Unauthorized" }
func (refusing) LastError() string                                    { return "status 401 Unauthorized" }

// TestProbePolledHopeless: a poll failed for good is UNKNOWN at once,
// with why, not after the time out.
func TestProbePolledHopeless(t *testing.T) {
	start := time.Now()
	res := Probe(context.Background(), Target{Source: refusing{}, Endpoint: "http://broker", Polled: true}, time.Minute, Spec{Consumers: []string{All}})
	if res.Status != Unknown || res.Problems[0] != "cannot poll http://broker#/: status 401 Unauthorized" {
		t.Errorf("%v %q", res.Status, res.Problems)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %v: waited for the time out", d)
	}
}
