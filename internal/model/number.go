package model

import (
	"encoding/binary"
	"strconv"
	"unsafe"
)

// number reads a number in the strict JSON grammar and converts it the way
// strconv does, correctly rounded, without strconv's general parser: with
// an exact multiplication or division when the decimal mantissa fits in 53
// bits and the power of ten in 22 (Clinger's fast path), else with
// Eisel-Lemire for up to 19 digits. What neither decides goes to
// strconv.ParseFloat.
func (d *fastDecoder) number() (float64, bool) {
	data, i, start := d.data, d.pos, d.pos
	neg := i < len(data) && data[i] == '-'
	if neg {
		i++
	}
	var mant uint64
	nd, exp := 0, 0 // significant digits seen; decimal exponent of mant
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		for ; i < len(data) && data[i] >= '0' && data[i] <= '9'; i++ {
			if nd < 19 {
				mant = mant*10 + uint64(data[i]-'0')
			} else {
				exp++
			}
			nd++
		}
	default:
		return 0, false
	}
	if i < len(data) && data[i] == '.' {
		i++
		first := i
		if nd == 0 {
			for ; i < len(data) && data[i] == '0'; i++ {
				exp-- // a leading zero: not significant
			}
		}
		// Eight digits at a time while they fit the mantissa: the times
		// lists are fractions of 16 or 17 significant digits.
		for nd+8 <= 19 && i+8 <= len(data) {
			x := binary.LittleEndian.Uint64(data[i:])
			if !eightDigits(x) {
				break
			}
			mant = mant*1e8 + parseEight(x)
			nd += 8
			exp -= 8
			i += 8
		}
		for ; i < len(data) && data[i] >= '0' && data[i] <= '9'; i++ {
			switch c := data[i]; {
			case nd == 0 && c == '0':
				exp-- // a leading zero: not significant
			case nd < 19:
				mant = mant*10 + uint64(c-'0')
				nd++
				exp--
			default:
				nd++
			}
		}
		if i == first {
			return 0, false
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		esign := 1
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			if data[i] == '-' {
				esign = -1
			}
			i++
		}
		first, e := i, 0
		for ; i < len(data) && data[i] >= '0' && data[i] <= '9'; i++ {
			if e < 10000 {
				e = e*10 + int(data[i]-'0')
			}
		}
		if i == first {
			return 0, false
		}
		exp += esign * e
	}
	d.pos = i
	if nd <= 19 {
		if mant <= 1<<53 && exp >= -22 && exp <= 22 {
			f := float64(mant)
			if exp < 0 {
				f /= pow10[-exp]
			} else {
				f *= pow10[exp]
			}
			if neg {
				f = -f
			}
			return f, true
		}
		if d.pow == nil {
			d.pow = powersOfTen()
		}
		if f, ok := eiselLemire64(d.pow, mant, exp, neg); ok {
			return f, true
		}
	}
	b := data[start:i]
	// The bytes are not retained: no need to copy them into a string.
	v, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
	return v, err == nil
}

// eightDigits reports whether the eight bytes of x, little-endian, are all
// ASCII digits.
func eightDigits(x uint64) bool {
	return (x&0xF0F0F0F0F0F0F0F0)|(((x+0x0606060606060606)&0xF0F0F0F0F0F0F0F0)>>4) == 0x3333333333333333
}

// parseEight returns the value of the eight ASCII digits in x, the first
// in the lowest byte, by combining them pairwise in three multiplications
// (the SWAR method of simdjson and fast_float).
func parseEight(x uint64) uint64 {
	x -= 0x3030303030303030
	x = x*10 + x>>8 // each even byte: two digits
	const mask = 0x000000FF000000FF
	const mul1 = 100 + 1000000<<32
	const mul2 = 1 + 10000<<32
	return ((x&mask)*mul1 + (x>>16&mask)*mul2) >> 32 & 0xFFFFFFFF
}

// pow10 are the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}
