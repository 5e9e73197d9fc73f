package putval

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestAppendG15 compares appendG15 with strconv on values of every
// magnitude it takes and around its edges: random, random bit patterns,
// near powers of ten, and exact ties between two 15-digit decimals.
func TestAppendG15(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	var vs []float64
	for range 2000000 {
		vs = append(vs,
			math.Pow(10, rng.Float64()*22-7)*float64(1-2*rng.IntN(2)),
			math.Float64frombits(rng.Uint64()),
			math.Float64frombits(0x3ee0000000000000+rng.Uint64N(0x0630000000000000)), // 2^-17 to 2^50
		)
	}
	for e := -8; e <= 16; e++ {
		p := math.Pow(10, float64(e))
		for d := -50; d <= 50; d++ {
			vs = append(vs, p, -p, math.Nextafter(p, 0), math.Nextafter(p, math.Inf(1)))
			p = math.Nextafter(p, math.Inf(1))
		}
		vs = append(vs, 9.999999999999995*math.Pow(10, float64(e)), 9.9999999999999949*math.Pow(10, float64(e)))
	}
	// Exact ties: k + 0.5 with 15 digits in k, and k/2^j near other scales.
	for range 100000 {
		k := float64(1e14 + rng.Int64N(9e14))
		vs = append(vs, k+0.5, (k+0.5)/1024, (k+0.5)/65536, (k+0.5)/(1<<40))
	}
	vs = append(vs, 100000000000000.5, 100000000000001.5, 999999999999999.5, 0.0001, 0.00001, 1e-5, 9.99999999999999e-5,
		0.1, 0.2, 0.3, 1.0/3, 2.0/3, 5e-324, math.MaxFloat64, math.SmallestNonzeroFloat64, 0, math.Copysign(0, -1),
		math.Inf(1), math.Inf(-1), math.NaN())
	taken := 0
	for _, v := range vs {
		got, ok := appendG15(nil, v)
		want := strconv.AppendFloat(nil, v, 'g', 15, 64)
		if !ok {
			if a := math.Abs(v); a >= 1e-4 && a < 1e15 && want[len(want)-1] != 'e' && !containsE(want) {
				t.Errorf("%v (%#x): not taken, strconv gives %s", v, math.Float64bits(v), want)
			}
			continue
		}
		taken++
		if string(got) != string(want) {
			t.Fatalf("%v (%#x): %s, strconv %s", v, math.Float64bits(v), got, want)
		}
	}
	if taken < len(vs)/3 {
		t.Errorf("only %d of %d values taken", taken, len(vs))
	}
}

func containsE(b []byte) bool {
	for _, c := range b {
		if c == 'e' {
			return true
		}
	}
	return false
}
