// Package health turns whether each hub is being heard into data: per
// service a 1/0 "hub up" value and the seconds since its last snapshot,
// written on every collectd interval even while the hub is silent, and a
// notification when a hub is lost and when it comes back.
package health

import (
	"fmt"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/hubmon"
	"github.com/fedora-infra/fedmsg-collectd/internal/putval"
)

// Identifiers of the liveness values, under HOST/SERVICE/. No consumer or
// producer value uses the bool type, and producer durations all end in
// "_last_ran_age", so neither can collide with a hub's own names.
const (
	UpType, UpInstance   = "bool", "hub_up"
	AgeType, AgeInstance = "duration", "last_snapshot_age"
)

type state int8

const (
	unknown state = iota // not heard yet, still within the grace time
	up
	down
)

type hub struct {
	since  time.Time // when watching began, or the hub was last lost
	last   time.Time // arrival of the newest snapshot; zero if none
	period time.Duration
	state  state
}

// Tracker follows the hubs being watched. It is not safe for concurrent
// use; the plugin calls it from its single writer loop.
type Tracker struct {
	// IdlePeriods is how many publish periods without a snapshot mark a
	// hub as lost (the watcher's reconnect limit too).
	IdlePeriods int
	// Host is the host field of values and notifications.
	Host string

	hubs map[hubmon.Endpoint]*hub
}

func (t *Tracker) get(ep hubmon.Endpoint, now time.Time) *hub {
	if t.hubs == nil {
		t.hubs = make(map[hubmon.Endpoint]*hub)
	}
	h, ok := t.hubs[ep]
	if !ok {
		h = &hub{since: now, period: hubmon.DefaultPeriod}
		t.hubs[ep] = h
	}
	return h
}

func (t *Tracker) limit(h *hub) time.Duration {
	return time.Duration(max(t.IdlePeriods, 1)) * h.period
}

// Heard records a snapshot of ep. When the hub had been lost it returns
// an okay notification.
func (t *Tracker) Heard(ep hubmon.Endpoint, s hubmon.Snapshot) []putval.Notification {
	h := t.get(ep, s.Arrival)
	var notes []putval.Notification
	if h.state == down {
		notes = append(notes, t.note(ep, putval.Okay, s.Arrival,
			fmt.Sprintf("fedmsg hub %s is heard again on %s after %s of silence", ep.Service, ep.Addr, s.Arrival.Sub(h.since).Round(time.Second))))
	}
	if s.Arrival.After(h.last) {
		h.last = s.Arrival
	}
	if s.Period > 0 {
		h.period = s.Period
	}
	h.state = up
	return notes
}

// Check evaluates the watched endpoints at now. It returns one batch of
// liveness values per hub (none for a hub not heard yet and still within
// its grace time) and a failure notification for each hub just lost.
// Hubs no longer watched are forgotten.
func (t *Tracker) Check(now time.Time, watched []hubmon.Endpoint, interval time.Duration) ([]putval.Batch, []putval.Notification) {
	keep := make(map[hubmon.Endpoint]bool, len(watched))
	var (
		batches []putval.Batch
		notes   []putval.Notification
	)
	for _, ep := range watched {
		keep[ep] = true
		h := t.get(ep, now)
		ref := h.last
		if ref.IsZero() {
			ref = h.since
		}
		silent := now.Sub(ref)
		if silent > t.limit(h) && h.state != down {
			msg := fmt.Sprintf("fedmsg hub %s: no snapshot on %s for %s", ep.Service, ep.Addr, silent.Round(time.Second))
			if h.last.IsZero() {
				msg = fmt.Sprintf("fedmsg hub %s: no snapshot on %s since monitoring started %s ago", ep.Service, ep.Addr, silent.Round(time.Second))
			}
			notes = append(notes, t.note(ep, putval.Failure, now, msg))
			h.state, h.since = down, ref
		}
		if h.state == unknown {
			continue
		}
		upValue := 0.0
		if h.state == up {
			upValue = 1
		}
		batches = append(batches, putval.Batch{
			Host: t.Host, Service: ep.Service, Time: now, Interval: interval,
			Values: []putval.Value{
				{Type: UpType, TypeInstance: UpInstance, Value: upValue},
				{Type: AgeType, TypeInstance: AgeInstance, Value: max(silent.Seconds(), 0)},
			},
		})
	}
	for ep := range t.hubs {
		if !keep[ep] {
			delete(t.hubs, ep)
		}
	}
	return batches, notes
}

func (t *Tracker) note(ep hubmon.Endpoint, severity string, at time.Time, msg string) putval.Notification {
	return putval.Notification{
		Severity: severity, Time: at, Host: t.Host, Service: ep.Service,
		Type: UpType, TypeInstance: UpInstance, Message: msg,
	}
}
