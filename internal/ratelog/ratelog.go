// Package ratelog is the one rate limit of the program's complaints about
// bad input: at most one log line per Every for one thing watched (an
// endpoint, a broker), so a peer sending garbage all day costs a line a
// minute, while every bad message is still counted by its owner.
package ratelog

import (
	"sync/atomic"
	"time"
)

// Every is how often a Limiter lets a line through.
const Every = time.Minute

// Limiter lets one line through per Every. The zero value is ready; it is
// safe for concurrent use.
type Limiter struct {
	last atomic.Int64 // Unix nanoseconds of the last line let through; 0: none
}

// Allow reports whether a line may be logged at now, and if so counts it.
func (l *Limiter) Allow(now time.Time) bool {
	t := now.UnixNano()
	last := l.last.Load()
	if last != 0 && t-last < int64(Every) {
		return false
	}
	return l.last.CompareAndSwap(last, t)
}

// Mark counts a line logged at now regardless: the next one waits Every.
func (l *Limiter) Mark(now time.Time) { l.last.Store(now.UnixNano()) }
