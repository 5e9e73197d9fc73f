package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/source/httppoll"
)

// node is a cluster node's Prometheus listener, as the source knows it
// between polls.
type node struct {
	url string
	// major is the broker's major version, 0 until an answer told it.
	major int
	// heard tells whether the node ever answered; series holds what
	// its answers said, series by series.
	heard  bool
	series seriesCache
}

// prometheus reads a broker through its nodes' Prometheus listeners
// (rabbitmq_prometheus), and keeps between polls its nodes, and per queue
// the sums of its counters' increments, which are the cumulative totals
// the snapshots take deltas of.
type prometheus struct {
	s      *Source
	nodes  []*node
	queues map[qkey]*queueState
	prevAt time.Time // the previous poll
}

// queueState is what the Prometheus source keeps of a queue.
type queueState struct {
	// acc are its totals, prev those as of the previous poll.
	acc, prev totals
	// anchor places its ready messages against its totals.
	anchor anchor
	seen   bool // in this poll's answers
	// lostCounts: a node's counter of it is gone since the previous
	// poll (prometheus_merge.go).
	lostCounts bool
}

// PrometheusRequest returns the request of a node's queue figures:
// GET URL/metrics/detailed?family=...[&vhost=VHOST], with the counters
// of its version (both kinds while it is not known).
func (s *Source) PrometheusRequest(ctx context.Context, nodeURL string, major int) (*http.Request, error) {
	u, err := url.Parse(nodeURL)
	if err != nil {
		return nil, errors.New("the node's URL does not parse")
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/metrics/detailed"
	u.RawPath = ""
	fams := slices.Clone(queueFamilies)
	switch {
	case major >= 4:
		fams = append(fams, counters4...)
	case major > 0:
		fams = append(fams, countersChannel...)
	default:
		fams = append(append(fams, counters4...), countersChannel...)
	}
	q := url.Values{"family": fams}
	if s.VHost != "" {
		q.Set("vhost", s.VHost)
	}
	u.RawQuery = q.Encode()
	req, err := newGet(ctx, u, "", "", "text/plain;version=0.0.4")
	if err != nil {
		return nil, err
	}
	// Not compressed: the plugin runs beside the broker, and compressing
	// 12 MB (10000 queues) costs the broker, and the plugin inflating it,
	// more than the bytes on loopback.
	req.Header.Set("Accept-Encoding", "identity")
	return req, nil
}

// newPrometheus returns the fetcher of s's Nodes.
func newPrometheus(s *Source) *prometheus {
	st := &prometheus{s: s, queues: map[qkey]*queueState{}}
	for _, u := range s.Nodes {
		n := &node{url: u}
		if s.keepState {
			n.series.texts = map[uint64]string{}
		}
		st.nodes = append(st.nodes, n)
	}
	return st
}

// fetch polls every node at once and merges their answers
// into one list of queues, each with totals that add up the counters of
// every node. at is halfway through the polls. A node that does not
// answer is logged and left out; when none answers, the poll failed.
func (st *prometheus) fetch(ctx context.Context) (a answer, at time.Time, oversize bool, err error) {
	s := st.s
	exps := make([]exposition, len(st.nodes))
	errs := make([]error, len(st.nodes))
	start := s.Now()
	var wg sync.WaitGroup
	for i, n := range st.nodes {
		wg.Go(func() { exps[i], errs[i] = s.getExposition(ctx, n) })
	}
	wg.Wait()
	at = start.Add(s.Now().Sub(start) / 2)
	answered := 0
	for i, n := range st.nodes {
		if errs[i] == nil {
			answered++
			if exps[i].major > 0 {
				n.major = exps[i].major
			}
			continue
		}
		oversize = oversize || errors.Is(errs[i], httppoll.ErrOversize)
		if len(st.nodes) > 1 && ctx.Err() == nil {
			s.complain("a node of the cluster does not answer: its counters wait for it", "node", httppoll.Redact(n.url), "err", httppoll.Brief(errs[i]))
		}
	}
	if answered == 0 {
		err := errs[0]
		if len(st.nodes) > 1 {
			err = fmt.Errorf("no node of the cluster answers; %s: %w", httppoll.Redact(st.nodes[0].url), errs[0])
		}
		return a, at, oversize, err
	}
	return st.merge(exps, errs, s.MaxQueues, at), at, false, nil
}

// getExposition makes one request of a node and decodes its answer.
func (s *Source) getExposition(ctx context.Context, n *node) (e exposition, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	req, err := s.PrometheusRequest(ctx, n.url, n.major)
	if err != nil {
		return e, err
	}
	keep := func(vhost, name string) bool {
		return (s.VHost == "" || vhost == s.VHost) && s.selected(name)
	}
	maxLines := max(s.MaxQueues, 1000) * maxLinesPerQueue
	level := -1 // the first answer: baselines only
	switch {
	case n.heard && n.major >= 4:
		level = perQueue
	case n.heard:
		level = perChannel
	}
	err = httppoll.Get(ctx, s.Client, req, s.MaxBody, func(r io.Reader) error {
		e, err = decodeExposition(r, maxLines, keep, &n.series, level, n.heard)
		return err
	})
	if err == nil {
		n.heard = true
	}
	return e, err
}
