package check

import (
	"context"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// Polled is a polled source, as package rabbitmq's.
type Polled interface {
	Run(ctx context.Context, deliver func(model.Message))
	// Endpoint and LastError are for the status line.
	Endpoint() string
	LastError() string
}

// ProbePolled polls a source (a broker) until it has the snapshots spec
// needs of its first service, one more than a hub's (the first only gives
// the counters a base), and checks them.
func ProbePolled(ctx context.Context, src Polled, timeout time.Duration, spec Spec) Result {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	need := spec.Snapshots() + 1
	got := make(chan model.Snapshot, need)
	service := ""
	go src.Run(ctx, func(m model.Message) {
		if service == "" {
			service = m.Endpoint.Service
		}
		if m.Endpoint.Service != service || m.Snapshot == nil {
			return
		}
		s := *m.Snapshot
		s.Arrival, s.Period = m.Arrival, m.Period
		select {
		case got <- s:
		default:
		}
	})
	var snaps []model.Snapshot
	for len(snaps) < need {
		select {
		case s := <-got:
			snaps = append(snaps, s)
		case <-ctx.Done():
			why := ""
			if e := src.LastError(); e != "" {
				why = " (" + e + ")"
			}
			return Fail("%d of the %d polls with fresh statistics needed from %s within %s%s", len(snaps), need, src.Endpoint(), timeout, why)
		}
	}
	spec.Now = snaps[len(snaps)-1].Arrival
	return Evaluate(snaps, spec)
}
