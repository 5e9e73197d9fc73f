package putval

import (
	"math"
	"math/bits"
	"strconv"
)

// pow10u are the powers of ten that fit a uint64.
var pow10u = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// appendG15 appends v as strconv.AppendFloat(dst, v, 'g', 15, 64) does (and
// fmt's %.15g, collectd.org's format), for the values it takes: finite,
// with a magnitude from 1e-5 to 1e15, written without an exponent. For
// others it reports false and appends nothing.
//
// Such a value is m * 2^e with a 53-bit m; its 15 significant digits are
// m * 10^s * 2^e rounded to an integer, for the s that puts the result
// between 10^14 and 10^15. With s at most 19 the product fits 128 bits and
// the rounding (to nearest, ties to even, as strconv) is exact integer
// arithmetic: no tables, no approximation.
func appendG15(dst []byte, v float64) ([]byte, bool) {
	b := math.Float64bits(v)
	be := int(b>>52) & 0x7ff
	m := b&(1<<52-1) | 1<<52
	e := be - 1075 // v = m * 2^e for normal v
	// |v| is in [2^(e+52), 2^(e+53)): 2^-17 < 1e-5 and 1e15 < 2^50.
	if be == 0 || e+52 < -17 || e+53 > 50 {
		return dst, false
	}
	// E, the decimal exponent: estimated from the binary one with
	// log10(2) ~ 78913/2^18, then corrected.
	E := (e + 52) * 78913 >> 18
	var q uint64
	var above, tie bool // the remainder is above or exactly half
	for range 3 {
		s := 14 - E
		if s < 0 || s > 19 {
			return dst, false
		}
		q, above, tie = scaledRound(m, pow10u[s], uint(-e))
		switch {
		case q < 1e14:
			E--
			continue
		case q >= 1e15:
			E++
			continue
		}
		break
	}
	if q < 1e14 || q >= 1e15 {
		return dst, false
	}
	if above || tie && q&1 == 1 {
		q++
		if q == 1e15 { // 999999999999999.5 and the like
			q = 1e14
			E++
		}
	}
	if E < -4 || E >= 15 {
		return dst, false // %g would use an exponent
	}
	// Fifteen digits, less trailing zeros, with the point after E+1.
	var buf [16]byte
	digits := strconv.AppendUint(buf[:0], q, 10)
	n := len(digits)
	for n > 1 && digits[n-1] == '0' {
		n--
	}
	digits = digits[:n]
	if b>>63 != 0 {
		dst = append(dst, '-')
	}
	if E < 0 {
		dst = append(dst, "0.0000"[:1-E]...)
		return append(dst, digits...), true
	}
	if n <= E+1 {
		dst = append(dst, digits...)
		return append(dst, "000000000000000"[:E+1-n]...), true
	}
	dst = append(dst, digits[:E+1]...)
	dst = append(dst, '.')
	return append(dst, digits[E+1:]...), true
}

// scaledRound returns floor(m * p / 2^k) and whether the remainder is
// above, or exactly, half of 2^k. k is from 1 to 127.
func scaledRound(m, p uint64, k uint) (q uint64, above, tie bool) {
	hi, lo := bits.Mul64(m, p)
	var remHi, remLo, halfHi, halfLo uint64
	switch {
	case k < 64:
		if hi>>k != 0 {
			return math.MaxUint64, false, false // does not fit: too large
		}
		q = hi<<(64-k) | lo>>k
		remLo = lo & (1<<k - 1)
		halfLo = 1 << (k - 1)
	case k == 64:
		q, remLo, halfLo = hi, lo, 1<<63
	default:
		q = hi >> (k - 64)
		remHi, remLo = hi&(1<<(k-64)-1), lo
		halfHi = 1 << (k - 65)
	}
	above = remHi > halfHi || remHi == halfHi && remLo > halfLo
	tie = remHi == halfHi && remLo == halfLo
	return q, above, tie
}
