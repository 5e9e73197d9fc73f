package sim

import "testing"

// TestAway checks that a worker gone for a while takes and holds no
// message then, and works again after: three workers of 0.1 s a message
// kept busy (40 msg/s), the third gone from 10 s to 20 s.
func TestAway(t *testing.T) {
	m := Model{Name: "q", Workers: 3, Service: Fixed(0.1), Arrivals: Constant(40),
		Away: func(now float64, worker int) float64 {
			if worker == 2 && now >= 10 && now < 20 {
				return 20
			}
			return now
		}}
	c := NewConsumer(m, 1)
	outs := map[float64]int{}
	for at := 5.0; at <= 30; at += 5 {
		c.Advance(at)
		p := c.Publish()
		outs[at] = p.Out
		if at > 10 && at < 20 && p.InService > 2 {
			t.Errorf("at %gs %d messages held with a worker gone, want at most 2", at, p.InService)
		}
		if at > 20 && p.InService != 3 {
			t.Errorf("at %gs %d messages held, want 3 (every worker back and busy)", at, p.InService)
		}
	}
	// 30 messages a second with three workers, 20 with two.
	for at, want := range map[float64]int{10: 150, 15: 100, 20: 100, 25: 150, 30: 150} {
		if d := outs[at] - want; d < -2 || d > 2 {
			t.Errorf("%d taken in the 5 s to %gs, want %d", outs[at], at, want)
		}
	}
}
