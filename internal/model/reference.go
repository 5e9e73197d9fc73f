package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// decodeReference decodes with encoding/json. It defines the semantics,
// errors included; decodeFast, the hot path, gives up whenever it meets
// anything it would not decode exactly the same way.
func decodeReference(data []byte, arrival time.Time) (Snapshot, error) {
	var raw struct {
		Consumers *capped[json.RawMessage] `json:"consumers"`
		Producers *capped[json.RawMessage] `json:"producers"`
	}
	cs, ps := &capped[json.RawMessage]{max: MaxEntries}, &capped[json.RawMessage]{max: MaxEntries}
	raw.Consumers, raw.Producers = cs, ps
	if err := json.Unmarshal(data, &raw); err != nil {
		return Snapshot{}, fmt.Errorf("decode snapshot: %w", err)
	}
	if !cs.present && !ps.present {
		return Snapshot{}, errors.New("decode snapshot: neither consumers nor producers present")
	}
	return assemble(arrival, cs.n, ps.n, func(i int) (Consumer, error) {
		return decodeConsumer(cs.items[i])
	}, func(i int) (Producer, error) {
		return decodeProducer(ps.items[i])
	}), nil
}

// capped is a JSON list of which the first max elements are kept and the
// rest only counted (and checked): what a hostile message lists beyond a
// limit costs no memory. null leaves it as it was.
type capped[T any] struct {
	max     int
	items   []T
	n       int  // elements in the list
	present bool // a list, not null
	// invalid, if set, checks the elements not kept: the first it refuses
	// is bad.
	invalid func(T) bool
	bad     T
	hasBad  bool
}

// timesList is the times list of a consumer: MaxTimes kept, the rest checked.
type timesList struct{ capped[float64] }

// UnmarshalJSON implements json.Unmarshaler.
func (t *timesList) UnmarshalJSON(b []byte) error {
	t.max, t.invalid = MaxTimes, func(v float64) bool { return !validTime(v) }
	return t.capped.UnmarshalJSON(b)
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *capped[T]) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		var want []T
		return json.Unmarshal(b, &want) // the error encoding/json gives
	}
	c.items, c.n, c.present = c.items[:0], 0, true
	for dec.More() {
		var v T
		if err := dec.Decode(&v); err != nil {
			return err
		}
		if c.n < c.max {
			c.items = append(c.items, v)
		} else if c.invalid != nil && !c.hasBad && c.invalid(v) {
			c.bad, c.hasBad = v, true
		}
		c.n++
	}
	return nil
}

func decodeConsumer(m json.RawMessage) (Consumer, error) {
	var r consumerFields
	if err := json.Unmarshal(m, &r); err != nil {
		return Consumer{}, err
	}
	return r.build()
}

func decodeProducer(m json.RawMessage) (Producer, error) {
	var r producerFields
	if err := json.Unmarshal(m, &r); err != nil {
		return Producer{}, err
	}
	return r.build()
}

// topics accepts a topic given as a string, a list of strings, or nothing;
// it returns at most MaxTopics of them and how many more there were.
func topics(m json.RawMessage) ([]string, int, error) {
	if len(m) == 0 || string(m) == "null" {
		return nil, 0, nil
	}
	var one string
	if err := json.Unmarshal(m, &one); err == nil {
		return []string{one}, 0, nil
	}
	many := capped[string]{max: MaxTopics}
	if err := json.Unmarshal(m, &many); err != nil || !many.present {
		return nil, 0, errors.New("topic: neither a string nor a list of strings")
	}
	if many.items == nil {
		many.items = []string{}
	}
	return many.items, many.n - len(many.items), nil
}

// quoteNonFinite turns the NaN, Infinity and -Infinity that Python's json
// module writes for non-finite floats into JSON strings, so that they fail
// the decoding of the entry that holds them rather than of the whole
// message. Data without them is returned as it is.
func quoteNonFinite(data []byte) []byte {
	if !bytes.Contains(data, []byte("NaN")) && !bytes.Contains(data, []byte("Infinity")) {
		return data
	}
	out := make([]byte, 0, len(data)+16)
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			out = append(out, c)
			switch c {
			case '\\':
				if i+1 < len(data) {
					i++
					out = append(out, data[i])
				}
			case '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			out = append(out, c)
			continue
		}
		matched := false
		for _, tok := range []string{"NaN", "Infinity", "-Infinity"} {
			if bytes.HasPrefix(data[i:], []byte(tok)) {
				out = append(out, '"')
				out = append(out, tok...)
				out = append(out, '"')
				i += len(tok) - 1
				matched = true
				break
			}
		}
		if !matched {
			out = append(out, c)
		}
	}
	return out
}
