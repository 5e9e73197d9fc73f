package hubmon

import (
	"slices"
	"time"
)

// DefaultPeriod is moksha's publish period, assumed until observed.
const DefaultPeriod = 5 * time.Second

// periodWindow is how many recent gaps the estimate looks at.
const periodWindow = 9

// Period estimates a hub's publish period from the gaps between the
// arrivals of its messages: the median of the recent gaps, rounded to
// 100 ms (10 ms below a second) so that jitter does not change the interval
// collectd sees. The
// median ignores the odd long gap of a lost message. The zero value is ready
// to use.
type Period struct {
	gaps [periodWindow]time.Duration
	n    int // gaps observed, capped at periodWindow
	next int
}

// Observe records the gap between two consecutive messages. Gaps that are
// not positive, or longer than an hour, are ignored.
func (p *Period) Observe(gap time.Duration) {
	if gap <= 0 || gap > time.Hour {
		return
	}
	p.gaps[p.next] = gap
	p.next = (p.next + 1) % periodWindow
	p.n = min(p.n+1, periodWindow)
}

// Estimate returns the current estimate, DefaultPeriod before any gap.
func (p *Period) Estimate() time.Duration {
	if p.n == 0 {
		return DefaultPeriod
	}
	g := p.gaps
	s := g[:p.n]
	slices.Sort(s)
	m := s[p.n/2]
	if p.n%2 == 0 {
		m = (s[p.n/2-1] + s[p.n/2]) / 2
	}
	unit := 100 * time.Millisecond
	if m < time.Second {
		unit = 10 * time.Millisecond
	}
	return max(m.Round(unit), unit)
}

// Known reports whether at least one gap has been observed.
func (p *Period) Known() bool { return p.n > 0 }
