package rabbitmq

import (
	"encoding/json"
	"errors"
	"slices"
	"time"
)

// A check runs as a fresh process every minute or so. To count the
// messages in and out since its run before, rather than only between its
// own two polls, it keeps what the source knew at its last poll and gives
// it back to the next run's source: per vhost, the time of its last
// snapshot and the named queues' totals; read through Prometheus
// listeners, also what each node's answer said of those queues, series
// by series (state_prometheus.go).

// state is what SaveState writes and ResumeState reads.
type state struct {
	VHosts     map[string]vhostState `json:"vhosts"`
	Prometheus *promState            `json:"prometheus,omitempty"`
}

type vhostState struct {
	At     time.Time             `json:"at"`
	Queues map[string][2]float64 `json:"queues"` // messages published, delivered
}

// maxStateQueues bounds the queues a state holds.
const maxStateQueues = 1000

// SaveState returns what the source knows of the named queues as of its
// last snapshot of each vhost, for ResumeState in a later process; nil
// when it has nothing to carry over.
func (s *Source) SaveState(queues []string) (json.RawMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := state{VHosts: map[string]vhostState{}}
	switch r := s.reader.(type) {
	case *management:
	case *prometheus:
		if st.Prometheus = r.save(queues); st.Prometheus == nil {
			return nil, nil
		}
	default:
		return nil, nil
	}
	n := 0
	for vh, qs := range s.prev {
		v := vhostState{At: s.last[vh].at, Queues: map[string][2]float64{}}
		for name, t := range qs {
			if slices.Contains(queues, name) && n < maxStateQueues {
				v.Queues[name] = [2]float64{t.publish, t.deliver}
				n++
			}
		}
		if len(v.Queues) > 0 && !v.At.IsZero() {
			st.VHosts[vh] = v
		}
	}
	if len(st.VHosts) == 0 {
		return nil, nil
	}
	return json.Marshal(st)
}

// ResumeState takes up what SaveState wrote, before Run: the first
// snapshot of a vhost then counts since the time saved. What is not a
// state of this source is refused, and nothing taken.
func (s *Source) ResumeState(raw json.RawMessage) error {
	if len(raw) == 0 {
		return nil
	}
	var st state
	if err := json.Unmarshal(raw, &st); err != nil {
		return err
	}
	n := 0
	for _, v := range st.VHosts {
		for _, t := range v.Queues {
			if !isCount(&t[0]) || !isCount(&t[1]) {
				return errors.New("a total that is not a count")
			}
			n++
		}
	}
	if n > maxStateQueues {
		return errors.New("more queues than a state holds")
	}
	if err := st.Prometheus.check(len(s.Nodes)); err != nil {
		return err
	}
	s.mu.Lock()
	s.resume = &st
	s.mu.Unlock()
	return nil
}

// resumed takes up the state given to ResumeState, once the source is
// set up (s.mu held).
func (s *Source) resumed() {
	if s.resume == nil {
		return
	}
	switch r := s.reader.(type) {
	case *management:
		if s.resume.Prometheus != nil {
			s.resume = nil
			return
		}
	case *prometheus:
		if !r.resume(s.resume.Prometheus) {
			s.resume = nil
			return
		}
	}
	for vh, v := range s.resume.VHosts {
		qs := map[string]totals{}
		for name, t := range v.Queues {
			qs[name] = totals{publish: t[0], deliver: t[1]}
		}
		s.prev[vh] = qs
		s.last[vh] = delivered{at: v.At, resumed: true}
	}
	s.resume = nil
}
