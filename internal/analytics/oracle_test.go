package analytics

import (
	"math"
	"math/rand/v2"
)

// The oracle of the polled scenarios: what a figure from counts would
// say if it knew the consumers' true capacity and arrival rate, judged
// against the same truth as the figures (polled_transient_test.go), so
// that the table shows how much of an error is the truth's own noise.

// meanOf is the mean of service's draws.
func meanOf(service func(*rand.Rand) float64) float64 {
	r := rand.New(rand.NewPCG(1, 2))
	sum := 0.0
	const n = 200000
	for range n {
		sum += service(r)
	}
	return sum / n
}

// factorAt is the factor on the service time at time at.
func factorAt(slow map[float64]float64, at float64) float64 {
	f, from := 1.0, math.Inf(-1)
	for t, v := range slow {
		if t <= at && t > from {
			f, from = v, t
		}
	}
	return f
}

// hungAt is how many of n workers are hung at time at.
func hungAt(hangs []hang, n int, at float64) float64 {
	h := 0
	for _, g := range hangs {
		if at >= g.from && at < g.to {
			if g.workers == nil {
				return float64(n)
			}
			h += len(g.workers)
		}
	}
	return float64(h)
}

// floor is the target want of a row's quantile q where the truth's own
// noise, the oracle's error, adds to it: an estimate within want of the
// oracle's figure, which misses the truth by the oracle's error, misses it
// by about the two in quadrature.
func floor(want float64, oracle *errs, q float64) float64 {
	if oracle == nil || len(oracle.rel) == 0 {
		return want
	}
	return math.Hypot(want, oracle.quantile(q))
}
