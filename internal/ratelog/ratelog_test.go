package ratelog

import (
	"sync"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	var l Limiter
	t0 := time.Unix(1796216400, 0)
	for i, c := range []struct {
		at   time.Duration
		want bool
	}{{0, true}, {time.Second, false}, {Every - time.Nanosecond, false}, {Every, true}, {Every + time.Second, false}, {3 * Every, true}} {
		if got := l.Allow(t0.Add(c.at)); got != c.want {
			t.Errorf("step %d at %v: Allow %v, want %v", i, c.at, got, c.want)
		}
	}
	// Concurrent callers at one moment: exactly one line.
	var (
		m       Limiter
		wg      sync.WaitGroup
		allowed atomicCount
	)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if m.Allow(t0) {
				allowed.add()
			}
		}()
	}
	wg.Wait()
	if allowed.n != 1 {
		t.Errorf("%d of 50 concurrent lines let through, want 1", allowed.n)
	}
}

type atomicCount struct {
	mu sync.Mutex
	n  int
}

func (c *atomicCount) add() { c.mu.Lock(); c.n++; c.mu.Unlock() }
