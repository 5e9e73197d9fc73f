package pipeline

import (
	"context"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// Clock maps the wall clock to the time of a simulated hub that runs Speed
// times faster from Epoch. A demo at --speed N runs its pipeline on it,
// so rates, durations and utilisation come out in the hub's own time, as
// they would at normal speed.
type Clock struct {
	Epoch time.Time
	Speed float64
}

// At returns the hub time of the wall-clock time t.
func (c Clock) At(t time.Time) time.Time {
	return c.Epoch.Add(c.Stretch(t.Sub(c.Epoch)))
}

// Now returns the hub time now.
func (c Clock) Now() time.Time { return c.At(time.Now()) }

// Stretch returns the hub time that passes in the wall-clock duration d.
func (c Clock) Stretch(d time.Duration) time.Duration {
	return time.Duration(float64(d) * c.Speed)
}

// Ticks ticks every wall-clock d until ctx ends, with hub times.
func (c Clock) Ticks(ctx context.Context, d time.Duration) <-chan time.Time {
	out := make(chan time.Time)
	go func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				select {
				case out <- c.At(now):
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// Source returns src with every message's arrival and period in hub time.
func (c Clock) Source(src Source) Source { return scaled{src, c} }

type scaled struct {
	Source
	c Clock
}

func (s scaled) Run(ctx context.Context, deliver func(model.Message)) {
	s.Source.Run(ctx, func(m model.Message) {
		m.Arrival = s.c.At(m.Arrival)
		m.Period = s.c.Stretch(m.Period)
		deliver(m)
	})
}
