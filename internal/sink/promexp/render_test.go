package promexp

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestAppendFloat: whole numbers written as integers read as strconv's
// shortest 'g' does, sign of zero and the edges of the fast path
// included.
func TestAppendFloat(t *testing.T) {
	vs := []float64{0, math.Copysign(0, -1), 1, -1, 7, 999999, -999999, 1e6, -1e6, 1e6 - 0.5, 123456.5, 0.25,
		1e-7, 2e15, math.MaxInt64, math.MinInt64, 1e300, math.SmallestNonzeroFloat64}
	r := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		vs = append(vs, float64(r.IntN(4_000_000)-2_000_000), r.NormFloat64()*1e6)
	}
	for _, v := range vs {
		if got, want := string(appendFloat(nil, v)), strconv.FormatFloat(v, 'g', -1, 64); got != want {
			t.Errorf("%v: %q, want %q", v, got, want)
		}
	}
	for v, want := range map[float64]string{math.NaN(): "NaN", math.Inf(1): "+Inf", math.Inf(-1): "-Inf"} {
		if got := string(appendFloat(nil, v)); got != want {
			t.Errorf("%v: %q, want %q", v, got, want)
		}
	}
}
