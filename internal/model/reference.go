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
		Consumers []json.RawMessage `json:"consumers"`
		Producers []json.RawMessage `json:"producers"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return Snapshot{}, fmt.Errorf("decode snapshot: %w", err)
	}
	if raw.Consumers == nil && raw.Producers == nil {
		return Snapshot{}, errors.New("decode snapshot: neither consumers nor producers present")
	}
	nc, np := len(raw.Consumers), len(raw.Producers)
	return assemble(arrival, nc, np, func(i int) (Consumer, error) {
		return decodeConsumer(raw.Consumers[i])
	}, func(i int) (Producer, error) {
		return decodeProducer(raw.Producers[i])
	}), nil
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

// topics accepts a topic given as a string, a list of strings, or nothing.
func topics(m json.RawMessage) ([]string, error) {
	if len(m) == 0 || string(m) == "null" {
		return nil, nil
	}
	var one string
	if err := json.Unmarshal(m, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(m, &many); err != nil {
		return nil, errors.New("topic: neither a string nor a list of strings")
	}
	return many, nil
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
