package rabbitmq

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/fedora-infra/fedmsg-collectd/internal/httppoll"
)

// The families of rabbitmq_prometheus's /metrics/detailed that the
// Prometheus source asks for: the queues' lengths and consumers, and the
// counters of messages in and out, per queue on 4.x, per channel and
// queue on 3.x (whose per-queue families do not exist).
var (
	queueFamilies   = []string{"queue_coarse_metrics", "queue_consumer_count"}
	counters4       = []string{"queue_exchange_metrics", "queue_delivery_metrics"}
	countersChannel = []string{"channel_queue_exchange_metrics", "channel_queue_metrics"}
)

// The metrics read, each of a kind.
const (
	metricReady     = "rabbitmq_detailed_queue_messages_ready"
	metricUnacked   = "rabbitmq_detailed_queue_messages_unacked"
	metricConsumers = "rabbitmq_detailed_queue_consumers"
	// metricReductions changes at each of a queue's reports of its
	// lengths: it tells when they were reported (refresh.go).
	metricReductions = "rabbitmq_detailed_queue_process_reductions_total"
	metricInfo       = "rabbitmq_detailed_queue_info"
	metricBuild      = "rabbitmq_build_info"
)

// The kinds of metric read.
const (
	kindReady = iota
	kindUnacked
	kindConsumers
	kindReductions
	kindInfo
	kindBuild
	// The counters: messages in; out (deliveries and gets, acknowledged
	// or not, redeliveries among them: the management API's
	// deliver_get); the redeliveries. kindIn+perQueue... and
	// kindIn+perChannel...: 4.x's per queue, 3.x's (and 4.x's) per
	// channel.
	kindIn
	kindOut
	kindRedeliver
)

// The levels of the counters: 4.x's per queue, 3.x's per channel. A
// counter's kind is kindIn, kindOut or kindRedeliver plus 3 times its
// level.
const (
	perQueue   = 0
	perChannel = 1
)

// kinds maps the names of the metrics read to their kinds.
var kinds = map[string]int{
	metricReady: kindReady, metricUnacked: kindUnacked, metricConsumers: kindConsumers,
	metricReductions: kindReductions, metricInfo: kindInfo, metricBuild: kindBuild,

	"rabbitmq_detailed_queue_exchange_messages_published_total": kindIn,
	"rabbitmq_detailed_queue_messages_delivered_ack_total":      kindOut,
	"rabbitmq_detailed_queue_messages_delivered_total":          kindOut,
	"rabbitmq_detailed_queue_get_ack_total":                     kindOut,
	"rabbitmq_detailed_queue_get_total":                         kindOut,
	"rabbitmq_detailed_queue_messages_redelivered_total":        kindRedeliver,

	"rabbitmq_detailed_queue_messages_published_total":       kindIn + 3*perChannel,
	"rabbitmq_detailed_channel_messages_delivered_ack_total": kindOut + 3*perChannel,
	"rabbitmq_detailed_channel_messages_delivered_total":     kindOut + 3*perChannel,
	"rabbitmq_detailed_channel_get_ack_total":                kindOut + 3*perChannel,
	"rabbitmq_detailed_channel_get_total":                    kindOut + 3*perChannel,
	"rabbitmq_detailed_channel_messages_redelivered_total":   kindRedeliver + 3*perChannel,
}

// qkey names a queue: a queue's name is unique in its vhost.
type qkey struct{ vhost, name string }

// opt is a figure of a queue, if told.
type opt struct {
	v  float64
	ok bool
}

func (o opt) ptr() *float64 {
	if !o.ok {
		return nil
	}
	v := o.v
	return &v
}

// nodeQueue is what one node's exposition says of a queue: its figures,
// and its counters' increments since the node's previous answer.
type nodeQueue struct {
	ready, unacked, consumers, reductions opt
	typ                                   string
	leader                                bool // queue_info says this node leads it
	in, out, redeliver                    float64
}

// exposition is what a poll kept of one node's answer.
type exposition struct {
	// major is the broker's major version (build_info), 0 if not told.
	major  int
	queues map[qkey]*nodeQueue
	// bad counts samples left out (a name too long, a value not a
	// count), badErr is the first of them.
	bad    int
	badErr error
}

// maxLinesPerQueue bounds the lines of an exposition per queue watched,
// and the series kept: a 3.x broker has a dozen per queue and consumer
// channel.
const maxLinesPerQueue = 64

// errLines is the error of an exposition with more lines than that.
var errLines = errors.New("the exposition has more lines than the queues watched can need (raise --rabbitmq-max-queues)")

// maxLineBytes bounds a line of an exposition: a sample's labels are a
// few names of at most 255 bytes.
const maxLineBytes = 64 << 10

// series is a line of a node's answer, kept from one answer to the next:
// the series it names is parsed once, by expfmt's parser; on later
// answers only its value, and only when its text changed. It holds a
// counter's value as of the node's previous answer.
type series struct {
	kind   int
	q      qkey
	typ    string // kindInfo: the queue type
	leader bool   // kindInfo: this node leads the queue
	major  int    // kindBuild
	skip   bool   // a queue not selected
	bad    error  // not a queue's series
	text   string // the value's text
	v      float64
	// last is a counter's value at the node's previous answer; seen
	// the answer it was last in.
	last     float64
	hasLast  bool
	seen     uint64
	next     float64
	countNow bool
}

// seriesCache is what a node's answers said, series by series.
type seriesCache struct {
	byID   map[string]*series // by the line up to its value
	answer uint64
	parser *expfmt.TextParser
}

// decodeExposition reads a node's answer in the Prometheus text format,
// keeping the queues keep selects, and adds each counter's increment
// since the node's previous answer to its queue: the counters of level
// (perQueue, perChannel, or -1: none, the node's first answer), each
// whole when first seen if heard (the node answered before: the series
// began since) and nothing otherwise. The series of c (nil: none kept)
// are taken up only once the whole answer is decoded; a new series is
// parsed by expfmt's parser, a known one's value by strconv. A sample
// that is not a queue's figure is left out and counted; an answer that
// does not parse is an error, as is one of more than maxLines lines, a
// line over maxLineBytes, or no rabbitmq_build_info.
func decodeExposition(r io.Reader, maxLines int, keep func(vhost, name string) bool, c *seriesCache, level int, heard bool) (e exposition, err error) {
	if c == nil {
		c = &seriesCache{}
	}
	if c.byID == nil {
		c.byID = map[string]*series{}
	}
	c.answer++
	e.queues = map[qkey]*nodeQueue{}
	br := bufio.NewReaderSize(r, maxLineBytes)
	build := false
	for total := 0; ; {
		line, rerr := br.ReadSlice('\n')
		switch {
		case errors.Is(rerr, bufio.ErrBufferFull):
			return e, fmt.Errorf("not the Prometheus text format expected: a line over %d KiB", maxLineBytes>>10)
		case rerr != nil && rerr != io.EOF:
			return e, rerr
		}
		if total++; total > maxLines {
			return e, errLines
		}
		if s, err := c.take(bytes.TrimRight(line, "\r\n"), keep, maxLines); err != nil {
			return e, err
		} else if s != nil {
			build = build || s.kind == kindBuild
			e.apply(s, level, heard)
		}
		if rerr == io.EOF {
			break
		}
	}
	if !build {
		return e, errors.New("not a RabbitMQ node's answer: no rabbitmq_build_info (the URL is that of the node's Prometheus listener, port 15692?)")
	}
	maps.DeleteFunc(c.byID, func(_ string, s *series) bool {
		s.last, s.hasLast = s.next, s.countNow
		return s.seen != c.answer
	})
	return e, nil
}

// take returns the series of a line, parsing it if new, its value if
// changed; nil for a line of no metric read (a comment, another metric).
func (c *seriesCache) take(line []byte, keep func(vhost, name string) bool, maxSeries int) (*series, error) {
	if len(bytes.TrimSpace(line)) == 0 || line[0] == '#' {
		return nil, nil
	}
	end := bytes.IndexAny(line, "{ \t")
	if end < 0 || !isMetricName(line[:end]) {
		return nil, fmt.Errorf("not the Prometheus text format expected: a line that is no sample: %.40q", line)
	}
	kind, ok := kinds[string(line[:end])]
	if !ok {
		return nil, nil
	}
	sp := bytes.LastIndexAny(line, " \t")
	id, value := line[:sp], bytes.TrimSpace(line[sp+1:])
	s := c.byID[string(id)]
	switch {
	case s == nil:
		if len(c.byID) >= maxSeries {
			return nil, errLines
		}
		var err error
		if s, err = c.parseSeries(line, kind, keep); err != nil {
			return nil, err
		}
		c.byID[string(id)] = s
	case s.text != string(value):
		v, err := strconv.ParseFloat(string(value), 64)
		if err != nil {
			return nil, fmt.Errorf("not the Prometheus text format expected: value %.40q", value)
		}
		s.v, s.text = v, string(value)
	}
	s.seen = c.answer
	return s, nil
}

// apply adds a series of the answer to the exposition.
func (e *exposition) apply(s *series, level int, heard bool) {
	switch {
	case s.skip:
		return
	case s.kind == kindBuild:
		e.major = s.major
		return
	case s.bad != nil:
		e.skip(s.bad)
		return
	}
	q := e.queues[s.q]
	if q == nil {
		q = &nodeQueue{}
		e.queues[s.q] = q
	}
	if s.kind == kindInfo {
		q.typ, q.leader = s.typ, s.leader
		return
	}
	if !isCount(&s.v) {
		e.skip(fmt.Errorf("%s of queue %.80q: %v is not a count", kindName(s.kind), s.q.name, s.v))
		return
	}
	switch s.kind {
	case kindReady:
		q.ready = opt{s.v, true}
	case kindUnacked:
		q.unacked = opt{s.v, true}
	case kindConsumers:
		q.consumers = opt{s.v, true}
	case kindReductions:
		q.reductions = opt{s.v, true}
	default:
		s.next, s.countNow = s.v, true
		if (s.kind-kindIn)/3 != level {
			return // another level's, or a node's first answer: a baseline
		}
		d := 0.0
		switch {
		case s.hasLast:
			d = httppoll.Delta(s.v, s.last)
		case heard:
			d = s.v
		}
		switch (s.kind - kindIn) % 3 {
		case 0:
			q.in += d
		case 1:
			q.out += d
		case 2:
			q.redeliver += d
		}
	}
}

// kindName names a kind in errors.
func kindName(k int) string {
	for name, kk := range kinds {
		if kk == k {
			return strings.TrimPrefix(name, "rabbitmq_detailed_")
		}
	}
	return "a figure"
}

func (e *exposition) skip(err error) {
	e.bad++
	if e.badErr == nil {
		e.badErr = err
	}
}

// isMetricName says whether b is a metric name of the text format.
func isMetricName(b []byte) bool {
	for i, c := range b {
		if !(c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return len(b) > 0
}

// buildMajor returns the major version of a rabbitmq_build_info sample.
func buildMajor(m *dto.Metric) int {
	for _, l := range m.GetLabel() {
		if l.GetName() == "rabbitmq_version" {
			var major int
			fmt.Sscanf(l.GetValue(), "%d", &major)
			return major
		}
	}
	return 0
}

// queueType returns a queue type as the broker names it, "classic",
// "quorum" or "stream" (4.x names them so, or rabbit_classic_queue...),
// or "" for another value.
func queueType(t string) string {
	t = strings.TrimSuffix(strings.TrimPrefix(t, "rabbit_"), "_queue")
	switch t {
	case "classic", "quorum", "stream":
		return t
	}
	return ""
}
