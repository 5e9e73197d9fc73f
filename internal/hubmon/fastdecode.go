package hubmon

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"
)

// decodeFast decodes a monitoring message in one pass over its bytes, with
// no reflection and no intermediate copies: the hot path, several times
// faster than encoding/json on the large messages (most of whose bytes are
// the times lists). It accepts only well-formed messages that it decodes
// exactly as decodeReference does, and reports ok=false for anything else
// (escapes in strings, a null where a value is expected, duplicate or
// case-folded keys, numbers out of range, syntax errors), which
// decodeReference then decodes or rejects. FuzzDecode checks that both
// agree.
func decodeFast(dec *Decoder, data []byte, arrival time.Time) (s Snapshot, ok bool) {
	d := fastDecoder{data: data, dec: dec}
	var cs []consumerFields
	var ps []producerFields
	haveC, haveP := false, false
	if !d.ws() || !d.byte('{') {
		return s, false
	}
	for first := true; ; first = false {
		d.ws()
		if d.peek() == '}' && first {
			d.pos++
			break
		}
		key, okKey := d.key()
		if !okKey {
			return s, false
		}
		switch string(key) {
		case "consumers":
			if haveC {
				return s, false
			}
			haveC = true
			if cs, ok = d.consumers(); !ok {
				return s, false
			}
		case "producers":
			if haveP {
				return s, false
			}
			haveP = true
			if ps, ok = d.producers(); !ok {
				return s, false
			}
		default:
			if bytes.EqualFold(key, []byte("consumers")) || bytes.EqualFold(key, []byte("producers")) || !d.skip(0) {
				return s, false
			}
		}
		d.ws()
		if d.peek() == ',' {
			d.pos++
			continue
		}
		if !d.byte('}') {
			return s, false
		}
		break
	}
	d.ws()
	if d.pos != len(d.data) || (!haveC && !haveP) {
		return s, false
	}
	return assemble(arrival, len(cs), len(ps),
		func(i int) (Consumer, error) { return cs[i].build() },
		func(i int) (Producer, error) { return ps[i].build() }), true
}

type fastDecoder struct {
	data []byte
	pos  int
	dec  *Decoder
	// Slabs the fields' pointers point into, a few allocations for all
	// the numbers and names of a message instead of one each. A full slab
	// is replaced, not grown: the pointers into it stay valid.
	floats []float64
	strs   []string
	pow    *powTable // powersOfTen, once looked up
}

// float returns a pointer to a copy of v.
func (d *fastDecoder) float(v float64) *float64 {
	if len(d.floats) == cap(d.floats) {
		d.floats = make([]float64, 0, max(64, 2*cap(d.floats)))
	}
	d.floats = append(d.floats, v)
	return &d.floats[len(d.floats)-1]
}

// str1 returns b as a string (interned) in a slice of one, in the slab.
func (d *fastDecoder) str1(b []byte) []string {
	if len(d.strs) == cap(d.strs) {
		d.strs = make([]string, 0, max(16, 2*cap(d.strs)))
	}
	d.strs = append(d.strs, d.dec.intern(b))
	return d.strs[len(d.strs)-1 : len(d.strs) : len(d.strs)]
}

// The values the pointers of parsed booleans point to; never written
// through.
var boolTrue, boolFalse = true, false

func (d *fastDecoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// ws skips JSON white space; it always succeeds.
func (d *fastDecoder) ws() bool {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return true
		}
	}
	return true
}

func (d *fastDecoder) byte(c byte) bool {
	if d.peek() != c {
		return false
	}
	d.pos++
	return true
}

func (d *fastDecoder) literal(lit string) bool {
	if !bytes.HasPrefix(d.data[d.pos:], []byte(lit)) {
		return false
	}
	d.pos += len(lit)
	return true
}

// str reads a string without escapes and returns its bytes (aliasing the
// input). Escapes, control characters and invalid UTF-8 are left to
// decodeReference.
func (d *fastDecoder) str() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start, ascii := d.pos, true
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			b := d.data[start:d.pos]
			d.pos++
			if !ascii && !utf8.Valid(b) {
				return nil, false
			}
			return b, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
		d.pos++
	}
	return nil, false
}

// key reads an object key and the colon after it.
func (d *fastDecoder) key() ([]byte, bool) {
	k, ok := d.str()
	if !ok {
		return nil, false
	}
	d.ws()
	if !d.byte(':') {
		return nil, false
	}
	d.ws()
	return k, true
}

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

// optNumber reads a number or null.
func (d *fastDecoder) optNumber() (*float64, bool) {
	if d.literal("null") {
		return nil, true
	}
	v, ok := d.number()
	return d.float(v), ok
}

// boolean reads true or false (null is left to decodeReference).
func (d *fastDecoder) boolean() (*bool, bool) {
	switch {
	case d.literal("true"):
		return &boolTrue, true
	case d.literal("false"):
		return &boolFalse, true
	}
	return nil, false
}

// array calls elem for each element of an array.
func (d *fastDecoder) array(elem func() bool) bool {
	if !d.byte('[') {
		return false
	}
	d.ws()
	if d.byte(']') {
		return true
	}
	for {
		d.ws()
		if !elem() {
			return false
		}
		d.ws()
		if d.byte(']') {
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}

// object calls field for each key of an object, the value's start being
// the current position.
func (d *fastDecoder) object(field func(key []byte) bool) bool {
	if !d.byte('{') {
		return false
	}
	d.ws()
	if d.byte('}') {
		return true
	}
	for {
		d.ws()
		k, ok := d.key()
		if !ok || !field(k) {
			return false
		}
		d.ws()
		if d.byte('}') {
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}

// skip passes over a value of a field we do not use, checking its syntax.
func (d *fastDecoder) skip(depth int) bool {
	if depth > 64 {
		return false
	}
	switch d.peek() {
	case '"':
		_, ok := d.str()
		return ok
	case '{':
		return d.object(func([]byte) bool { return d.skip(depth + 1) })
	case '[':
		return d.array(func() bool { return d.skip(depth + 1) })
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	}
	_, ok := d.number()
	return ok
}

// known reports whether a key that is not one of ours would still match
// one of them in encoding/json, which matches keys case-insensitively.
func folds(key []byte, ours ...string) bool {
	for _, k := range ours {
		if bytes.EqualFold(key, []byte(k)) {
			return true
		}
	}
	return false
}

var consumerKeys = []string{"name", "module", "initialized", "exceptions", "topic", "backlog", "headcount_in", "headcount_out", "times"}

func (d *fastDecoder) consumers() ([]consumerFields, bool) {
	var out []consumerFields
	// One backing array for the times of the whole snapshot, sized from
	// the message: a number takes at least 20 bytes at full precision.
	times := make([]float64, 0, len(d.data)/20)
	ok := d.array(func() bool {
		var f consumerFields
		seen := 0
		ok := d.object(func(k []byte) bool {
			bit, ok := 0, true
			if bit, ok, done := d.common(k, &f.rawCommon); done {
				return d.once(&seen, bit) && ok
			}
			switch string(k) {
			case "topic":
				bit = 16
				ok = d.topic(&f)
			case "backlog":
				bit = 32
				f.Backlog, ok = d.optNumber()
			case "headcount_in":
				bit = 64
				f.HeadcountIn, ok = d.optNumber()
			case "headcount_out":
				bit = 128
				f.HeadcountOut, ok = d.optNumber()
			case "times":
				bit = 256
				if d.literal("null") {
					break
				}
				start := len(times)
				ok = d.array(func() bool {
					v, ok := d.number()
					times = append(times, v)
					return ok
				})
				ts := times[start:len(times):len(times)]
				if len(ts) == 0 {
					ts = []float64{} // as encoding/json: empty, not nil
				}
				f.Times = &ts
			default:
				return !folds(k, consumerKeys...) && d.skip(1)
			}
			return d.once(&seen, bit) && ok
		})
		out = append(out, f)
		return ok
	})
	return out, ok
}

func (d *fastDecoder) topic(f *consumerFields) bool {
	var ts []string
	switch d.peek() {
	case 'n':
		if !d.literal("null") {
			return false
		}
	case '"':
		b, ok := d.str()
		if !ok {
			return false
		}
		ts = d.str1(b)
	case '[':
		ts = []string{}
		if !d.array(func() bool {
			b, ok := d.str()
			ts = append(ts, d.dec.intern(b))
			return ok
		}) {
			return false
		}
	default:
		return false
	}
	f.parsedTopics, f.hasTopics = ts, true
	return true
}

var producerKeys = []string{"name", "module", "initialized", "exceptions", "frequency", "last_ran"}

func (d *fastDecoder) producers() ([]producerFields, bool) {
	var out []producerFields
	ok := d.array(func() bool {
		var f producerFields
		seen := 0
		ok := d.object(func(k []byte) bool {
			bit, ok := 0, true
			if bit, ok, done := d.common(k, &f.rawCommon); done {
				return d.once(&seen, bit) && ok
			}
			switch string(k) {
			case "frequency":
				bit = 16
				f.Frequency, ok = d.optNumber()
			case "last_ran":
				bit = 32
				f.LastRan, ok = d.optNumber()
			default:
				return !folds(k, producerKeys...) && d.skip(1)
			}
			return d.once(&seen, bit) && ok
		})
		out = append(out, f)
		return ok
	})
	return out, ok
}

// common parses the fields consumers and producers share. done reports
// whether k was one of them; bit identifies it for duplicate detection.
func (d *fastDecoder) common(k []byte, f *rawCommon) (bit int, ok, done bool) {
	switch string(k) {
	case "name":
		b, ok := d.str()
		if ok {
			f.Name = &d.str1(b)[0]
		}
		return 1 << 10, ok, true
	case "module":
		b, ok := d.str()
		if ok {
			f.Module = d.dec.intern(b)
		}
		return 1 << 11, ok, true
	case "initialized":
		f.Initialized, ok = d.boolean()
		return 1 << 12, ok, true
	case "exceptions":
		f.Exceptions, ok = d.optNumber()
		return 1 << 13, ok, true
	}
	return 0, false, false
}

// once records a field's bit and reports false if it was seen before: a
// duplicate key, which encoding/json resolves its own way.
func (d *fastDecoder) once(seen *int, bit int) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}
