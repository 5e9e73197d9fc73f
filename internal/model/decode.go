package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// Decode parses one monitoring message. A message that is not a JSON object
// with the expected lists is an error; a malformed entry inside a list (a
// wrong type, a negative or huge count, NaN or Infinity as Python's json
// writes them, a name over MaxNameBytes) is skipped and counted in
// Skipped, as are entries past MaxEntries, so one bad consumer does not
// hide the others. Unknown fields are ignored.
func Decode(data []byte, arrival time.Time) (Snapshot, error) {
	return (*Decoder)(nil).Decode(data, arrival)
}

// Decoder decodes the successive messages of one hub as Decode does. It
// keeps the names, modules and topics of the messages it decoded, which a
// hub repeats in every message, so that decoding them again allocates
// nothing. The zero value is ready to use; a nil *Decoder keeps nothing.
// Use one per hub, from one goroutine.
type Decoder struct {
	// Shared, when set, is the storage of the processing times that this
	// Decoder shares with others used from the same goroutine: a
	// snapshot's Times are then valid only until the next Decode by any
	// of them. Unset, the Decoder keeps its own, valid until its next
	// Decode.
	Shared *Scratch
	own    Scratch
	strs   map[string]string
	bytes  int // held by strs
}

// Scratch is storage that Decoders reuse from one message to the next:
// one for many hubs decoded in turn keeps one buffer, not one a hub.
type Scratch struct {
	times []float64 // the previous snapshot's times
}

// scratch returns the storage dec uses.
func (dec *Decoder) scratch() *Scratch {
	if dec.Shared != nil {
		return dec.Shared
	}
	return &dec.own
}

// maxKeptTimes bounds the times storage a Decoder keeps between messages
// (1 MiB): an outlier's is let go.
const maxKeptTimes = 128 << 10

// timesBuffer returns an empty slice of capacity n or more: the storage of
// the previous snapshot's times, if large enough.
func (dec *Decoder) timesBuffer(n int) []float64 {
	if dec != nil && cap(dec.scratch().times) >= n {
		return dec.scratch().times[:0]
	}
	return make([]float64, 0, n)
}

// keepTimes keeps ts's storage for the next snapshot, unless it is large.
func (dec *Decoder) keepTimes(ts []float64) {
	if dec != nil {
		sc := dec.scratch()
		sc.times = nil
		if cap(ts) <= maxKeptTimes {
			sc.times = ts[:0]
		}
	}
}

// Bounds on what a Decoder keeps: a hub sending ever new names (a bug, or
// hostile) makes it start afresh rather than grow.
const (
	maxInterned      = 4096
	maxInternedBytes = 256 << 10
)

// Decode parses one monitoring message; see the function Decode. The
// snapshot's Times share storage that the Decoder reuses: they are valid
// until its next Decode.
func (dec *Decoder) Decode(data []byte, arrival time.Time) (Snapshot, error) {
	// What the fast decoder takes is strict JSON, with no bare NaN or
	// Infinity for quoteNonFinite to quote: try it first.
	if s, ok := decodeFast(dec, data, arrival); ok {
		return s, nil
	}
	if quoted := quoteNonFinite(data); len(quoted) != len(data) {
		if s, ok := decodeFast(dec, quoted, arrival); ok {
			return s, nil
		}
		data = quoted
	}
	return decodeReference(data, arrival)
}

// intern returns b as a string, the one it kept if it has seen b before.
func (dec *Decoder) intern(b []byte) string {
	if dec == nil {
		return string(b)
	}
	if s, ok := dec.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if dec.strs == nil || len(dec.strs) >= maxInterned || dec.bytes+len(s) > maxInternedBytes {
		dec.strs, dec.bytes = make(map[string]string), 0
	}
	dec.strs[s] = s
	dec.bytes += len(s)
	return s
}

// assemble builds a snapshot of nc consumers and np producers, decoding
// entry i with consumer(i) or producer(i); entries past MaxEntries are not
// decoded, and bad entries are skipped, counted, the first error kept.
func assemble(arrival time.Time, nc, np int, consumer func(int) (Consumer, error), producer func(int) (Producer, error)) Snapshot {
	s := Snapshot{
		Arrival:   arrival,
		Consumers: make([]Consumer, 0, min(nc, MaxEntries)),
		Producers: make([]Producer, 0, min(np, MaxEntries)),
	}
	skip := func(err error) {
		if s.Skipped == 0 {
			s.SkipErr = err
		}
		s.Skipped++
	}
	for _, n := range []*int{&nc, &np} {
		if *n > MaxEntries {
			skip(fmt.Errorf("%d entries in a list, more than %d", *n, MaxEntries))
			s.Skipped += *n - MaxEntries - 1
			*n = MaxEntries
		}
	}
	for i := range nc {
		c, err := consumer(i)
		if err != nil {
			skip(fmt.Errorf("consumer %d: %w", i, err))
			continue
		}
		if c.Dropped > 0 {
			skip(fmt.Errorf("consumer %d: %d times or topics over the limits (%d, %d) left out", i, c.Dropped, MaxTimes, MaxTopics))
			s.Skipped += c.Dropped - 1
		}
		s.Consumers = append(s.Consumers, c)
	}
	for i := range np {
		p, err := producer(i)
		if err != nil {
			skip(fmt.Errorf("producer %d: %w", i, err))
			continue
		}
		s.Producers = append(s.Producers, p)
	}
	return s
}

type rawCommon struct {
	Name        *string  `json:"name"`
	Module      string   `json:"module"`
	Initialized *bool    `json:"initialized"`
	Exceptions  *float64 `json:"exceptions"`
}

func (r rawCommon) check() (name string, initialized bool, exc Opt, err error) {
	if r.Name == nil {
		return "", false, Opt{}, errors.New("no name")
	}
	if len(*r.Name) > MaxNameBytes {
		return "", false, Opt{}, fmt.Errorf("name of %d bytes, more than %d", len(*r.Name), MaxNameBytes)
	}
	// An entry without the flag comes from a hub too old to report failed
	// start-ups; it is running.
	initialized = r.Initialized == nil || *r.Initialized
	exc, err = count("exceptions", r.Exceptions)
	return *r.Name, initialized, exc, err
}

// consumerFields are a consumer entry's fields as parsed, before the
// checks that both decoders share.
type consumerFields struct {
	rawCommon
	Topic        json.RawMessage `json:"topic"`
	Backlog      *float64        `json:"backlog"`
	HeadcountIn  *float64        `json:"headcount_in"`
	HeadcountOut *float64        `json:"headcount_out"`
	Times        *timesList      `json:"times"`
	// parsedTopics, when hasTopics, replaces Topic (the fast decoder
	// parses it, keeping at most MaxTopics and counting the rest in
	// extraTopics).
	parsedTopics []string
	extraTopics  int
	hasTopics    bool
}

type producerFields struct {
	rawCommon
	Frequency *float64 `json:"frequency"`
	LastRan   *float64 `json:"last_ran"`
}

func (r consumerFields) build() (Consumer, error) {
	name, init, exc, err := r.check()
	if err != nil {
		return Consumer{}, err
	}
	c := Consumer{Name: name, Module: r.Module, Initialized: init, Exceptions: exc}
	if r.hasTopics {
		c.Topics, c.Dropped = r.parsedTopics, r.extraTopics
	} else if c.Topics, c.Dropped, err = topics(r.Topic); err != nil {
		return Consumer{}, err
	}
	if c.Backlog, err = count("backlog", r.Backlog); err != nil {
		return Consumer{}, err
	}
	if c.HeadcountIn, err = count("headcount_in", r.HeadcountIn); err != nil {
		return Consumer{}, err
	}
	if c.HeadcountOut, err = count("headcount_out", r.HeadcountOut); err != nil {
		return Consumer{}, err
	}
	if r.Times != nil {
		c.HasTimes = true
		c.Times = r.Times.items
		if c.Times == nil {
			c.Times = []float64{} // as encoding/json: empty, not nil
		}
		c.Dropped += r.Times.n - len(c.Times)
		for _, t := range c.Times {
			if !validTime(t) {
				return Consumer{}, fmt.Errorf("times: invalid duration %g", t)
			}
		}
		if r.Times.hasBad {
			return Consumer{}, fmt.Errorf("times: invalid duration %g", r.Times.bad)
		}
	}
	return c, nil
}

func (r producerFields) build() (Producer, error) {
	name, init, exc, err := r.check()
	if err != nil {
		return Producer{}, err
	}
	p := Producer{Name: name, Module: r.Module, Initialized: init, Exceptions: exc}
	if r.Frequency != nil {
		if *r.Frequency < 0 {
			return Producer{}, fmt.Errorf("frequency: negative %g", *r.Frequency)
		}
		p.Frequency = Some(*r.Frequency)
	}
	if r.LastRan != nil {
		if *r.LastRan < 0 || *r.LastRan > maxCount {
			return Producer{}, fmt.Errorf("last_ran: out of range %g", *r.LastRan)
		}
		p.LastRan = Some(*r.LastRan)
	}
	return p, nil
}

// validTime reports whether t can be a duration: not negative, infinite
// or NaN.
func validTime(t float64) bool { return t >= 0 && t <= math.MaxFloat64 }

// count turns an optional JSON number into an Opt, rejecting values no
// counter can have. Numbers may come as ints or floats.
func count(field string, v *float64) (Opt, error) {
	if v == nil {
		return Opt{}, nil
	}
	if *v < 0 || *v > maxCount {
		return Opt{}, fmt.Errorf("%s: out of range %g", field, *v)
	}
	return Some(*v), nil
}
