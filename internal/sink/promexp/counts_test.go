package promexp

import (
	"math/rand/v2"
	"testing"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// TestCountsSparse: the kept range of buckets gives the same exposed
// buckets as a full cumulative array would, whatever order the buckets
// count in, and a published counts is never changed by an add to a newer
// state.
func TestCountsSparse(t *testing.T) {
	for seed := uint64(1); seed <= 50; seed++ {
		r := rand.New(rand.NewPCG(seed, 0))
		var c counts
		var full [report.NumBounds + 1]uint64 // the last: above every bound
		for range 1 + r.IntN(20) {
			b, n := r.IntN(report.NumBounds+1), uint64(1+r.IntN(5))
			if r.IntN(3) == 0 {
				c.mine = false // published, as takeHub does
			}
			before := c
			keep := append([]uint64(nil), before.own...)
			c = c.add(b, n)
			c.n += n
			full[b] += n
			for i, v := range keep {
				if !before.mine && before.own[i] != v {
					t.Fatalf("seed %d: an older state's bucket changed", seed)
				}
			}
		}
		var want []uint64
		var cum uint64
		for i := 0; i < report.NumBounds; i++ {
			cum += full[i]
			if full[i] > 0 || full[i+1] > 0 {
				want = append(want, uint64(i), cum)
			}
		}
		var got []uint64
		c.cumulative(func(i int, cum uint64) { got = append(got, uint64(i), cum) })
		if len(got) != len(want) {
			t.Fatalf("seed %d: exposed %v, want %v", seed, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("seed %d: exposed %v, want %v", seed, got, want)
			}
		}
	}
}
