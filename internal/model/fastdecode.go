package model

import (
	"bytes"
	"time"
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
	d := fastDecoder{data: data, dec: dec, yes: true}
	var cs []consumerFields
	var ps []producerFields
	var nc, np int
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
			if cs, nc, ok = d.consumers(); !ok {
				return s, false
			}
		case "producers":
			if haveP {
				return s, false
			}
			haveP = true
			if ps, np, ok = d.producers(); !ok {
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
	return assemble(arrival, nc, np,
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
	// yes and no are what parsed booleans point to; never written through.
	yes, no bool
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

var consumerKeys = []string{"name", "module", "initialized", "exceptions", "topic", "backlog", "headcount_in", "headcount_out", "times"}

// consumers parses the consumers list: the fields of the first MaxEntries
// entries, and how many there are.
func (d *fastDecoder) consumers() ([]consumerFields, int, bool) {
	var out []consumerFields
	n := 0
	// One backing array for the times of the whole snapshot, sized from
	// the message (a number takes at least 20 bytes at full precision), or
	// the Decoder's from the previous message.
	times := d.dec.timesBuffer(len(d.data) / 20)
	defer func() { d.dec.keepTimes(times) }()
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
				start, n := len(times), 0
				ts := &timesList{}
				ok = d.array(func() bool {
					v, ok := d.number()
					if n < MaxTimes {
						times = append(times, v)
					} else if !ts.hasBad && !validTime(v) {
						ts.bad, ts.hasBad = v, true
					}
					n++
					return ok
				})
				ts.items, ts.n, ts.present = times[start:len(times):len(times)], n, true
				f.Times = ts
			default:
				return !folds(k, consumerKeys...) && d.skip(1)
			}
			return d.once(&seen, bit) && ok
		})
		if len(out) < MaxEntries {
			out = append(out, f)
		}
		n++
		return ok
	})
	return out, n, ok
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
			if len(ts) < MaxTopics {
				ts = append(ts, d.dec.intern(b))
			} else {
				f.extraTopics++
			}
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

// producers parses the producers list as consumers does the consumers.
func (d *fastDecoder) producers() ([]producerFields, int, bool) {
	var out []producerFields
	n := 0
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
		if len(out) < MaxEntries {
			out = append(out, f)
		}
		n++
		return ok
	})
	return out, n, ok
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
