package rabbitmq

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
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
	// lengths: it tells when they were reported (anchor.go).
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
	ready, unacked, consumers opt
	typ                       string
	leader                    bool // queue_info says this node leads it
	// reported tells the queue reported its lengths since the node's
	// previous answer: its reductions changed.
	reported           bool
	in, out, redeliver float64
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
// answers only its value, by strconv. It holds a counter's value as of
// the node's previous answer. Kept for every series of every queue (ten
// of them a queue on 3.x), it is small: its queue is an index.
type series struct {
	v, last   float64
	queue     int32
	seen      uint32
	kind, typ uint8
	flags     uint8
}

// The flags of a series.
const (
	skipped  = 1 << iota // a queue not selected
	bad                  // not a queue's series
	leader               // kindInfo: this node leads the queue
	hasLast              // last holds the value at the previous answer
	countNow             // v is a counter's value of this answer
)

// The queue types, as kept: "" (not told), classic, quorum, stream.
var queueTypes = []string{"", "classic", "quorum", "stream"}

// seriesCache is what a node's answers said, series by series, and of
// each queue.
type seriesCache struct {
	seed   maphash.Seed
	byID   map[uint64]int32 // a series by the hash of its line up to its value
	series []series
	free   []int32
	queues []cachedQueue
	qfree  []int32
	byName map[qkey]int32
	answer uint32
	parser *expfmt.TextParser
	major  int
}

// cachedQueue is a queue of a node: its name, and its reductions at the
// previous answer.
type cachedQueue struct {
	key           qkey
	reductions    float64
	hasReductions bool
	seen          uint32
}

// decodeExposition reads a node's answer in the Prometheus text format,
// keeping the queues keep selects, and adds each counter's increment
// since the node's previous answer to its queue: the counters of level
// (perQueue, perChannel, or -1: none, the node's first answer), each
// whole when first seen if heard (the node answered before: the series
// began since) and nothing otherwise. The series of c are taken up only
// once the whole answer is decoded; a new series is parsed by expfmt's
// parser, a known one's value by strconv. A sample that is not a queue's
// figure is left out and counted; an answer that does not parse is an
// error, as is one of more than maxLines lines or series, a line over
// maxLineBytes, or no rabbitmq_build_info.
func decodeExposition(r io.Reader, maxLines int, keep func(vhost, name string) bool, c *seriesCache, level int, heard bool) (e exposition, err error) {
	if c == nil {
		c = &seriesCache{}
	}
	if c.byID == nil {
		c.seed, c.byID, c.byName = maphash.MakeSeed(), map[uint64]int32{}, map[qkey]int32{}
	}
	c.answer++
	c.major = 0
	d := decoding{c: c, e: &e, level: level, heard: heard, at: make([]*nodeQueue, len(c.queues))}
	e.queues = make(map[qkey]*nodeQueue, len(c.byName))
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
		i, err := c.take(bytes.TrimRight(line, "\r\n"), keep, maxLines)
		if err != nil {
			return e, err
		}
		if i >= 0 {
			build = build || c.series[i].kind == kindBuild
			d.apply(i)
		}
		if rerr == io.EOF {
			break
		}
	}
	if !build {
		return e, errors.New("not a RabbitMQ node's answer: no rabbitmq_build_info (the URL is that of the node's Prometheus listener, port 15692?)")
	}
	e.major = c.major
	c.sweep()
	return e, nil
}

// sweep takes up an answer's series, and forgets those and the queues it
// did not have.
func (c *seriesCache) sweep() {
	for id, i := range c.byID {
		s := &c.series[i]
		if s.seen != c.answer {
			delete(c.byID, id)
			*s = series{}
			c.free = append(c.free, i)
			continue
		}
		if s.flags&countNow != 0 {
			s.last = s.v
			s.flags |= hasLast
		}
		s.flags &^= countNow
	}
	for i := range c.queues {
		q := &c.queues[i]
		if q.seen != c.answer && q.key != (qkey{}) && c.byName[q.key] == int32(i) {
			delete(c.byName, q.key)
			*q = cachedQueue{}
			c.qfree = append(c.qfree, int32(i))
		}
	}
}

// take returns the index of a line's series, parsing it if new, its
// value otherwise; -1 for a line of no metric read (a comment, another
// metric).
func (c *seriesCache) take(line []byte, keep func(vhost, name string) bool, maxSeries int) (int32, error) {
	if len(bytes.TrimSpace(line)) == 0 || line[0] == '#' {
		return -1, nil
	}
	end := bytes.IndexAny(line, "{ \t")
	if end < 0 || !isMetricName(line[:end]) {
		return -1, fmt.Errorf("not the Prometheus text format expected: a line that is no sample: %.40q", line)
	}
	kind, ok := kinds[string(line[:end])]
	if !ok {
		return -1, nil
	}
	sp := bytes.LastIndexAny(line, " \t")
	if sp < end {
		return -1, fmt.Errorf("not the Prometheus text format expected: a sample without a value: %.40q", line)
	}
	id := maphash.Bytes(c.seed, line[:sp])
	i, ok := c.byID[id]
	if !ok {
		if len(c.byID) >= maxSeries {
			return -1, errLines
		}
		s, err := c.parseSeries(line, kind, keep)
		if err != nil {
			return -1, err
		}
		if n := len(c.free); n > 0 {
			i, c.free = c.free[n-1], c.free[:n-1]
			c.series[i] = s
		} else {
			i = int32(len(c.series))
			c.series = append(c.series, s)
		}
		c.byID[id] = i
	} else {
		v, err := strconv.ParseFloat(string(bytes.TrimSpace(line[sp+1:])), 64)
		if err != nil {
			return -1, fmt.Errorf("not the Prometheus text format expected: value %.40q", line[sp+1:])
		}
		c.series[i].v = v
	}
	c.series[i].seen = c.answer
	return i, nil
}

// queue returns the index of a queue, kept if new.
func (c *seriesCache) queue(k qkey) int32 {
	if i, ok := c.byName[k]; ok {
		return i
	}
	if n := len(c.qfree); n > 0 {
		i := c.qfree[n-1]
		c.qfree = c.qfree[:n-1]
		c.queues[i] = cachedQueue{key: k}
		c.byName[k] = i
		return i
	}
	c.queues = append(c.queues, cachedQueue{key: k})
	c.byName[k] = int32(len(c.queues) - 1)
	return int32(len(c.queues) - 1)
}

// decoding is one answer being decoded.
type decoding struct {
	c     *seriesCache
	e     *exposition
	level int
	heard bool
	at    []*nodeQueue // by queue index: its entry in e.queues
	qs    []nodeQueue
}

// nodeQueue returns the answer's entry of a queue.
func (d *decoding) nodeQueue(i int32) *nodeQueue {
	for int(i) >= len(d.at) {
		d.at = append(d.at, nil)
	}
	if d.at[i] == nil {
		if len(d.qs) == cap(d.qs) {
			// A new block: the entries already handed out stay put.
			d.qs = make([]nodeQueue, 0, max(64, len(d.c.queues)-len(d.e.queues)))
		}
		d.qs = append(d.qs, nodeQueue{})
		q := &d.qs[len(d.qs)-1]
		cq := &d.c.queues[i]
		d.e.queues[cq.key] = q
		d.at[i] = q
		cq.seen = d.c.answer
	}
	return d.at[i]
}

// apply adds a series of the answer to the exposition.
func (d *decoding) apply(i int32) {
	s := &d.c.series[i]
	switch {
	case s.flags&skipped != 0:
		return
	case s.kind == kindBuild:
		d.c.major = int(s.typ)
		return
	case s.flags&bad != 0:
		d.e.skip(fmt.Errorf("a sample without a queue and vhost of at most %d bytes", maxName))
		return
	}
	q := d.nodeQueue(s.queue)
	if s.kind == kindInfo {
		q.typ, q.leader = queueTypes[s.typ], s.flags&leader != 0
		return
	}
	if !isCount(&s.v) {
		d.e.skip(fmt.Errorf("%s of queue %.80q: %v is not a count", kindName(int(s.kind)), d.c.queues[s.queue].key.name, s.v))
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
		cq := &d.c.queues[s.queue]
		q.reported = cq.hasReductions && cq.reductions != s.v
		cq.reductions, cq.hasReductions = s.v, true
	default:
		s.flags |= countNow
		if (int(s.kind)-kindIn)/3 != d.level {
			return // another level's, or a node's first answer: a baseline
		}
		delta := 0.0
		switch {
		case s.flags&hasLast != 0:
			delta = httppoll.Delta(s.v, s.last)
		case d.heard:
			delta = s.v
		}
		switch (int(s.kind) - kindIn) % 3 {
		case 0:
			q.in += delta
		case 1:
			q.out += delta
		case 2:
			q.redeliver += delta
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
