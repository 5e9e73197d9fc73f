package rabbitmq

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// queue is what the API answers per queue; pointers tell missing fields.
type queue struct {
	Name      string   `json:"name"`
	VHost     string   `json:"vhost"`
	Ready     *float64 `json:"messages_ready"`
	Unacked   *float64 `json:"messages_unacknowledged"`
	Consumers *float64 `json:"consumers"`
	// Type is classic, quorum or stream; empty when not told.
	Type  string `json:"type"`
	Stats stats  `json:"message_stats"`
	// live is the queue in the answer of lengths now, if there.
	live *queue
}

// stats are a queue's cumulative counters. A queue that never had
// traffic has none: the field is missing, {} or (some versions) [].
type stats struct {
	Publish *float64 `json:"publish"`
	Deliver *float64 `json:"deliver_get"`
}

func (s *stats) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '[' {
		*s = stats{}
		return nil
	}
	type plain stats
	return json.Unmarshal(b, (*plain)(s))
}

// maxName is the longest queue or vhost name taken: AMQP's limit.
const maxName = 255

// MaxVHosts is the most vhosts watched per broker (each a service);
// queues of more are left out and counted with those past the cap.
const MaxVHosts = 1000

// maxQueueBytes bounds one queue's entry in the answer (a few hundred
// bytes with the columns asked for; several kilobytes from a broker that
// ignores them): no entry makes the decoder hold more.
const maxQueueBytes = 256 << 10

// errEntry is the decoder's error for an entry over maxQueueBytes.
var errEntry = fmt.Errorf("an entry of the list of queues is over %d KiB", maxQueueBytes>>10)

// decode reads the API's JSON list of queues from r as a stream, one
// entry at a time, keeping at most limit of those keep selects. An entry
// that is not a queue (a field of the wrong type, a number out of range)
// is left out and counted; the others are kept. An answer that is not a
// JSON list is an error. Queues of vhosts past MaxVHosts count as past
// the limit.
func decode(r io.Reader, limit int, keep func(name string) bool) (answer, error) {
	var a answer
	vhosts := map[string]bool{}
	g := &guard{r: r}
	dec := json.NewDecoder(g)
	g.dec = dec
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return a, notList(err, g)
	}
	for dec.More() {
		if len(a.queues) >= limit && keep == nil {
			// Full, and every queue selected: the rest are only counted,
			// without decoding them.
			g.dec = nil // counting holds nothing: no bound per entry
			n, err := countRest(io.MultiReader(dec.Buffered(), g))
			a.over += n
			if err != nil {
				return a, notList(err, g)
			}
			return a, nil
		}
		var q queue
		err := dec.Decode(&q)
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			a.bad++
			if a.badErr == nil {
				a.badErr = fmt.Errorf("queue %.80q: %s is not the %s expected", q.Name, te.Field, te.Type)
			}
			continue
		case err != nil:
			return a, notList(err, g)
		case q.Name == "" || len(q.Name) > maxName || len(q.VHost) > maxName:
			// AMQP names are at most 255 bytes: a longer one is not a
			// broker's.
			a.bad++
			if a.badErr == nil {
				a.badErr = fmt.Errorf("an entry whose queue or vhost name is empty or over %d bytes", maxName)
			}
			continue
		case keep != nil && !keep(q.Name):
			continue
		case len(a.queues) >= limit:
			a.over++
			continue
		case !vhosts[q.VHost] && len(vhosts) >= MaxVHosts:
			a.over++
			continue
		}
		vhosts[q.VHost] = true
		a.queues = append(a.queues, q)
	}
	if _, err := dec.Token(); err != nil {
		return a, notList(err, g)
	}
	return a, nil
}

func notList(err error, g *guard) error {
	switch {
	case g.over:
		return errEntry
	case err == nil:
		err = errors.New("it does not start with [")
	}
	return fmt.Errorf("not the JSON list of queues expected: %w", err)
}

// guard reads for a json.Decoder, refusing to read on once the decoder
// holds more than maxQueueBytes of one value: so neither a huge entry nor
// an endless one grows its buffer. Without a decoder it only counts.
type guard struct {
	r    io.Reader
	dec  *json.Decoder
	read int64
	over bool
}

func (g *guard) Read(p []byte) (int, error) {
	if g.dec != nil && g.read-g.dec.InputOffset() > maxQueueBytes {
		g.over = true
		return 0, errEntry
	}
	n, err := g.r.Read(p)
	g.read += int64(n)
	return n, err
}

// countRest reads the rest of a JSON list whose next entry is the one a
// decoder stood before, up to its closing ']', and returns how many
// entries it holds: it counts the top-level commas and the first entry,
// and holds nothing. What lies past the ']' is not read.
func countRest(r io.Reader) (int, error) {
	var (
		buf      [32 << 10]byte
		depth    int
		inString bool
		escaped  bool
		n        int
		seen     bool // a character of the current entry
	)
	for {
		k, err := r.Read(buf[:])
		for _, c := range buf[:k] {
			switch {
			case inString:
				switch {
				case escaped:
					escaped = false
				case c == '\\':
					escaped = true
				case c == '"':
					inString = false
				}
			case c == '"':
				inString, seen = true, true
			case c == '[' || c == '{':
				depth++
				seen = true
			case c == ']' && depth == 0:
				if seen {
					n++
				}
				return n, nil
			case c == ']' || c == '}':
				depth--
			case c == ',' && depth == 0:
				if seen {
					n++
				}
				seen = false
			case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			default:
				seen = true
			}
		}
		if err == io.EOF {
			return n, io.ErrUnexpectedEOF
		}
		if err != nil {
			return n, err
		}
	}
}
