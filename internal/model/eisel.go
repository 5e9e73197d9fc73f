package model

import (
	"math"
	"math/big"
	"math/bits"
	"sync"
)

// The Eisel-Lemire algorithm converts a decimal mantissa of up to 19
// digits and a power of ten to the correctly rounded float64, or reports
// that it cannot decide (then strconv does). It is what strconv itself
// uses after its general parser; calling it directly on the digits we
// already scanned skips that parser, the most expensive part of decoding
// a message full of processing times.
//
// Reference: Daniel Lemire, "Number Parsing at a Gigabyte per Second",
// Software: Practice and Experience 51(8), 2021.

const (
	powMinExp10 = -348
	powMaxExp10 = 347
)

// powersOfTen holds, for 10^e with e from powMinExp10, the 128-bit
// mantissa rounded down, as {low 64 bits, high 64 bits}. It is computed
// once, exactly, with math/big.
var powersOfTen = sync.OnceValue(func() *powTable {
	var t powTable
	ten := big.NewInt(10)
	for e := powMinExp10; e <= powMaxExp10; e++ {
		var m big.Int
		if e >= 0 {
			m.Exp(ten, big.NewInt(int64(e)), nil)
			if n := m.BitLen(); n > 128 {
				m.Rsh(&m, uint(n-128))
			} else {
				m.Lsh(&m, uint(128-n))
			}
		} else {
			var d big.Int
			d.Exp(ten, big.NewInt(int64(-e)), nil)
			m.Lsh(big.NewInt(1), uint(127+d.BitLen()))
			m.Quo(&m, &d)
		}
		words := m.Bits() // little-endian; 64-bit words on amd64 and arm64
		var lo, hi uint64
		if bits.UintSize == 64 {
			lo, hi = uint64(words[0]), uint64(words[1])
		} else {
			lo = uint64(words[0]) | uint64(words[1])<<32
			hi = uint64(words[2]) | uint64(words[3])<<32
		}
		t[e-powMinExp10] = [2]uint64{lo, hi}
	}
	return &t
})

// powTable is the type of powersOfTen's table.
type powTable = [powMaxExp10 - powMinExp10 + 1][2]uint64

// eiselLemire64 converts man*10^exp10 (negated if neg) with the table of
// powersOfTen.
func eiselLemire64(tab *powTable, man uint64, exp10 int, neg bool) (float64, bool) {
	if man == 0 {
		if neg {
			return math.Copysign(0, -1), true
		}
		return 0, true
	}
	if exp10 < powMinExp10 || exp10 > powMaxExp10 {
		return 0, false
	}
	pow := tab[exp10-powMinExp10]
	// Normalize the mantissa; the binary exponent estimate uses
	// log2(10) ~ 217706/2^16.
	clz := bits.LeadingZeros64(man)
	man <<= uint(clz)
	retExp2 := uint64(217706*exp10>>16+64+1023) - uint64(clz)

	xHi, xLo := bits.Mul64(man, pow[1])
	if xHi&0x1FF == 0x1FF && xLo+man < man {
		// The truncated product may be off: widen with the low word.
		yHi, yLo := bits.Mul64(man, pow[0])
		mergedHi, mergedLo := xHi, xLo+yHi
		if mergedLo < xLo {
			mergedHi++
		}
		if mergedHi&0x1FF == 0x1FF && mergedLo+1 == 0 && yLo+man < man {
			return 0, false
		}
		xHi, xLo = mergedHi, mergedLo
	}
	msb := xHi >> 63
	retMantissa := xHi >> (msb + 9)
	retExp2 -= 1 ^ msb
	if xLo == 0 && xHi&0x1FF == 0 && retMantissa&3 == 1 {
		return 0, false // halfway between two floats: cannot round here
	}
	retMantissa += retMantissa & 1
	retMantissa >>= 1
	if retMantissa>>53 > 0 {
		retMantissa >>= 1
		retExp2++
	}
	if retExp2-1 >= 0x7FF-1 {
		return 0, false // subnormal, infinite: left to strconv
	}
	b := retExp2<<52 | retMantissa&(1<<52-1)
	if neg {
		b |= 1 << 63
	}
	return math.Float64frombits(b), true
}
