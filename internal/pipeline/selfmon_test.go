package pipeline

import "testing"

// TestSpare: free heap under the heap's goal is kept (the heap grows back
// into it before its next collection); more than releaseAbove beyond it is
// given back.
func TestSpare(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		free, objects, goal uint64
		want                bool
	}{
		{6 * mb, 6 * mb, 13 * mb, false}, // just collected: half the goal free
		{1 * mb, 12 * mb, 13 * mb, false},
		{9 * mb, 6 * mb, 12 * mb, false}, // a little over the goal
		{40 * mb, 6 * mb, 12 * mb, true}, // after a large message
		{12 * mb, 1 * mb, 4 * mb, true},
	} {
		if got := spare(c.free, c.objects, c.goal); got != c.want {
			t.Errorf("free %d MiB, objects %d MiB, goal %d MiB: spare %v, want %v", c.free/mb, c.objects/mb, c.goal/mb, got, c.want)
		}
	}
}

// TestGCPercent: a large live heap is collected once it has grown by
// half; a small one as the runtime does by default.
func TestGCPercent(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{{2 << 20, 100}, {12 << 20, 100}, {20 << 20, 50}} {
		if got := gcPercent(c.live); got != c.want {
			t.Errorf("live heap %d MiB: GOGC %d, want %d", c.live>>20, got, c.want)
		}
	}
}
