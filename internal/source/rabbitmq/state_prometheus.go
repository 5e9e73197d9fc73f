package rabbitmq

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Read through Prometheus listeners, a queue's counts are sums of
// counters (per channel on 3.x) that a run must see twice to count: a
// series first seen may have counted for hours. So a check keeps, per
// node, the series of the queues it checks as the node's last answer
// wrote them, and the queues' totals and anchors; the next run takes the
// series up as that node's answer before its first poll, which then
// counts since. A channel opened between the runs is a series first seen
// after an answer: counted whole; one closed is a counter gone, as within
// a run (prometheus_merge.go). What does not fit the bounds, or names
// other nodes, is not carried over: that run's first poll has no counts.

// promState is what a check keeps of the Prometheus source.
type promState struct {
	At     time.Time        `json:"at"` // the last poll
	Nodes  []promNodeState  `json:"nodes"`
	Queues []promQueueState `json:"queues"`
}

// promNodeState is a node's last answer, its series of the queues kept.
type promNodeState struct {
	// URL is a digest of the node's URL, which may hold a password.
	URL   string   `json:"url"`
	Major int      `json:"major"`
	Lines []string `json:"lines"`
}

// promQueueState is a queue's totals (messages in, delivered,
// redelivered) and, once placed, its anchor.
type promQueueState struct {
	VHost  string      `json:"vhost"`
	Name   string      `json:"name"`
	Totals [3]float64  `json:"totals"`
	Anchor *[2]float64 `json:"anchor,omitempty"` // V and its variance
}

// maxStateSeries bounds the series a state holds, over all nodes.
const maxStateSeries = 4096

// KeepState makes the source keep, from its start, what SaveState needs
// of the series of a broker read through Prometheus listeners (their
// text: a string a series). A check calls it before Run.
func (s *Source) KeepState() {
	s.mu.Lock()
	s.keepState = true
	s.mu.Unlock()
}

// nodeDigest names a node's URL in a state.
func nodeDigest(url string) string {
	d := sha256.Sum256([]byte(url))
	return hex.EncodeToString(d[:8])
}

// save returns the state of the named queues, or nil when there is none
// or it is over the bounds.
func (st *prometheus) save(queues []string) *promState {
	if st.prevAt.IsZero() {
		return nil
	}
	p := &promState{At: st.prevAt}
	n := 0
	for _, nd := range st.nodes {
		c := &nd.series
		if !nd.heard || c.texts == nil {
			return nil
		}
		ns := promNodeState{URL: nodeDigest(nd.url), Major: nd.major}
		for id, text := range c.texts {
			s := c.series[c.byID[id]]
			if s.kind != kindBuild && (int(s.queue) >= len(c.queues) || !slices.Contains(queues, c.queues[s.queue].key.name)) {
				continue
			}
			if n++; n > maxStateSeries {
				return nil
			}
			ns.Lines = append(ns.Lines, text+" "+strconv.FormatFloat(s.v, 'g', -1, 64))
		}
		slices.Sort(ns.Lines)
		p.Nodes = append(p.Nodes, ns)
	}
	for k, q := range st.queues {
		if !slices.Contains(queues, k.name) {
			continue
		}
		qs := promQueueState{VHost: k.vhost, Name: k.name, Totals: [3]float64{q.acc.publish, q.acc.deliver, q.acc.redeliver}}
		if q.anchor.known {
			qs.Anchor = &[2]float64{q.anchor.v, q.anchor.variance}
		}
		p.Queues = append(p.Queues, qs)
	}
	if len(p.Queues) > maxStateQueues {
		return nil
	}
	return p
}

// check refuses a state that is not one of nodes nodes, or over the
// bounds, or with figures that are not counts.
func (p *promState) check(nodes int) error {
	if p == nil {
		return nil
	}
	if len(p.Nodes) != nodes {
		return errors.New("a state of other nodes")
	}
	n := 0
	for _, nd := range p.Nodes {
		for _, l := range nd.Lines {
			if n++; n > maxStateSeries {
				return errors.New("more series than a state holds")
			}
			if len(l) > maxLineBytes || strings.ContainsAny(l, "\r\n") {
				return errors.New("a series that is not one line")
			}
		}
	}
	if len(p.Queues) > maxStateQueues {
		return errors.New("more queues than a state holds")
	}
	for _, q := range p.Queues {
		for i := range q.Totals {
			if !isCount(&q.Totals[i]) {
				return errors.New("a total that is not a count")
			}
		}
		if q.Anchor != nil && (math.IsNaN(q.Anchor[0]+q.Anchor[1]) || math.IsInf(q.Anchor[0]+q.Anchor[1], 0) || q.Anchor[1] < 0) {
			return errors.New("an anchor that is not a number")
		}
	}
	return nil
}

// resume takes up a state before the first poll: each node's series as
// its answer, the queues' totals. It says whether it did; a node's lines
// that do not decode leave every node as new.
func (st *prometheus) resume(p *promState) bool {
	if p == nil || len(p.Nodes) != len(st.nodes) {
		return false
	}
	s := st.s
	keep := func(vhost, name string) bool { return (s.VHost == "" || vhost == s.VHost) && s.selected(name) }
	maxLines := max(s.MaxQueues, 1000) * maxLinesPerQueue
	for i, nd := range st.nodes {
		if p.Nodes[i].URL != nodeDigest(nd.url) {
			return false
		}
	}
	for i, nd := range st.nodes {
		body := strings.Join(p.Nodes[i].Lines, "\n") + "\n"
		if _, err := decodeExposition(strings.NewReader(body), maxLines, keep, &nd.series, -1, false); err != nil {
			for _, n := range st.nodes {
				n.series, n.heard, n.major = seriesCache{texts: map[uint64]string{}}, false, 0
			}
			return false
		}
		nd.heard, nd.major = true, p.Nodes[i].Major
	}
	for _, q := range p.Queues {
		t := totals{publish: q.Totals[0], deliver: q.Totals[1], redeliver: q.Totals[2]}
		qs := &queueState{acc: t, prev: t}
		if q.Anchor != nil {
			qs.anchor = anchor{v: q.Anchor[0], variance: q.Anchor[1], known: true}
		}
		st.queues[qkey{vhost: q.VHost, name: q.Name}] = qs
	}
	st.prevAt = p.At
	return true
}
