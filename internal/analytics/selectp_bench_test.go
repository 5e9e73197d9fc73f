package analytics

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkPercentiles runs on many different lists in turn, so that the
// branch predictor cannot learn one.
func BenchmarkPercentiles(b *testing.B) {
	for _, n := range []int{40, 1024} {
		rng := rand.New(rand.NewPCG(1, 2))
		lists := make([][]float64, 256)
		for i := range lists {
			lists[i] = make([]float64, n)
			for j := range lists[i] {
				lists[i][j] = rng.ExpFloat64() * 0.05
			}
		}
		var buf []float64
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				percentiles(lists[i%len(lists)], &buf)
				i++
			}
		})
	}
}
