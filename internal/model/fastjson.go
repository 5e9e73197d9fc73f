package model

import (
	"bytes"
	"unicode/utf8"
)

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
		return &d.yes, true
	case d.literal("false"):
		return &d.no, true
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
