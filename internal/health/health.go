// Package health turns whether each hub is being heard into data: per
// service a 1/0 "hub up" value and the seconds since its last snapshot,
// written on every collectd interval even while the hub is silent, and a
// notification when a hub is lost and when it comes back.
package health

import (
	"fmt"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// DefaultPeriod is moksha's publish period, assumed until observed.
const DefaultPeriod = 5 * time.Second

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
	polled bool // a polled source (a broker), not a hub
}

// Tracker follows the hubs being watched. It is not safe for concurrent
// use; the plugin calls it from its single writer loop.
type Tracker struct {
	// IdlePeriods is how many publish periods without a snapshot mark a
	// hub as lost (the watcher's reconnect limit too).
	IdlePeriods int

	hubs map[model.Endpoint]*hub
}

func (t *Tracker) get(ep model.Endpoint, now time.Time) *hub {
	if t.hubs == nil {
		t.hubs = make(map[model.Endpoint]*hub)
	}
	h, ok := t.hubs[ep]
	if !ok {
		h = &hub{since: now, period: DefaultPeriod}
		t.hubs[ep] = h
	}
	return h
}

func (t *Tracker) limit(h *hub) time.Duration {
	return time.Duration(max(t.IdlePeriods, 1)) * h.period
}

// Heard records a snapshot of ep that arrived at arrival, with the publish
// period observed so far (0: not yet). When the hub had been lost it
// returns an okay notice.
func (t *Tracker) Heard(ep model.Endpoint, arrival time.Time, period time.Duration) []report.Notice {
	h := t.get(ep, arrival)
	var notes []report.Notice
	if h.state == down {
		msg := fmt.Sprintf("fedmsg hub %s is heard again on %s after %s of silence", ep.Service, ep.Addr, arrival.Sub(h.since).Round(time.Second))
		if h.polled {
			msg = fmt.Sprintf("%s: fresh figures again from %s after %s without", ep.Service, ep.Addr, arrival.Sub(h.since).Round(time.Second))
		}
		notes = append(notes, note(ep, report.Okay, arrival, msg))
	}
	if arrival.After(h.last) {
		h.last = arrival
	}
	if period > 0 {
		h.period = period
	}
	h.state = up
	return notes
}

// Check evaluates the watched endpoints at now. It returns one batch of
// liveness values per endpoint (none for one not heard yet and still
// within its grace time) and a failure notification for each just lost,
// which for a polled source says why its latest poll failed. Endpoints no
// longer watched are forgotten.
func (t *Tracker) Check(now time.Time, watched []model.Watched, interval time.Duration) ([]report.Batch, []report.Notice) {
	keep := make(map[model.Endpoint]bool, len(watched))
	var (
		batches []report.Batch
		notes   []report.Notice
	)
	for _, w := range watched {
		ep := w.Endpoint
		keep[ep] = true
		h := t.get(ep, now)
		h.polled = w.Polled
		ref := h.last
		if ref.IsZero() {
			ref = h.since
		}
		silent := now.Sub(ref)
		if silent > t.limit(h) && h.state != down {
			notes = append(notes, note(ep, report.Failure, now, lost(w, silent, h.last.IsZero())))
			h.state, h.since = down, ref
		}
		if h.state == unknown {
			continue
		}
		upValue := 0.0
		if h.state == up {
			upValue = 1
		}
		batches = append(batches, report.Batch{
			Service: ep.Service, Time: now, Interval: interval,
			Values: []report.Value{
				{Kind: report.HubUp, V: upValue},
				{Kind: report.LastSnapshotAge, V: max(silent.Seconds(), 0)},
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

// lost says that w has been silent for silent (since monitoring
// started, if never heard), and for a polled source why.
func lost(w model.Watched, silent time.Duration, never bool) string {
	ep, d := w.Endpoint, silent.Round(time.Second)
	if !w.Polled {
		if never {
			return fmt.Sprintf("fedmsg hub %s: no snapshot on %s since monitoring started %s ago", ep.Service, ep.Addr, d)
		}
		return fmt.Sprintf("fedmsg hub %s: no snapshot on %s for %s", ep.Service, ep.Addr, d)
	}
	msg := fmt.Sprintf("%s: no fresh figures from %s for %s", ep.Service, ep.Addr, d)
	if never {
		msg = fmt.Sprintf("%s: no fresh figures from %s since monitoring started %s ago", ep.Service, ep.Addr, d)
	}
	if w.LastError != "" {
		msg += " (" + w.LastError + ")"
	}
	return msg
}

func note(ep model.Endpoint, severity report.Severity, at time.Time, msg string) report.Notice {
	return report.Notice{Kind: report.HubUp, Severity: severity, Time: at, Service: ep.Service, Message: msg}
}
