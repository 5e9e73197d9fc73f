package counters

import (
	"encoding/json"
	"errors"
	"math"
	"time"
)

// A check runs as a fresh process every minute or so: what a run kept of
// the service (its counters at the last snapshot, and when) lets the next
// run's first poll count since then, as run's polls count since the one
// before.

// maxStateStages bounds the stages a state holds.
const maxStateStages = 256

// state is what SaveState writes.
type state struct {
	At     time.Time          `json:"at"`
	Stages map[string]float64 `json:"stages"`
}

// SaveState returns the counters of the last snapshot and its time, for
// ResumeState in the next run; nil before a snapshot. The consumers
// checked do not narrow it: each is between two of the stages.
func (s *Source) SaveState([]string) (json.RawMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last.IsZero() || len(s.prev) == 0 || len(s.prev) > maxStateStages {
		return nil, nil
	}
	return json.Marshal(state{At: s.last, Stages: s.prev})
}

// ResumeState takes up what SaveState wrote, before Run: the first
// snapshot then counts since the time saved. What is not a state of this
// source is refused, and nothing taken.
func (s *Source) ResumeState(raw json.RawMessage) error {
	if len(raw) == 0 {
		return nil
	}
	var st state
	if err := json.Unmarshal(raw, &st); err != nil {
		return err
	}
	switch {
	case st.At.IsZero():
		return errors.New("a state without its time")
	case len(st.Stages) == 0 || len(st.Stages) > maxStateStages:
		return errors.New("no stages, or more than a state holds")
	}
	for _, v := range st.Stages {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) || v > 1<<53 {
			return errors.New("a counter that is not a count")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prev, s.last = st.Stages, st.At
	return nil
}
