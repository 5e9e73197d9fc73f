package rabbitmq

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
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

// The metrics read, by name.
const (
	metricReady     = "rabbitmq_detailed_queue_messages_ready"
	metricUnacked   = "rabbitmq_detailed_queue_messages_unacked"
	metricConsumers = "rabbitmq_detailed_queue_consumers"
	// metricReductions changes at each of a queue's reports of its
	// lengths: it tells when they were reported (refresh.go).
	metricReductions = "rabbitmq_detailed_queue_process_reductions_total"
	metricInfo       = "rabbitmq_detailed_queue_info"
	metricBuild      = "rabbitmq_build_info"
	// In: per queue (4.x), per channel, queue and exchange (3.x and 4.x).
	metricIn4       = "rabbitmq_detailed_queue_exchange_messages_published_total"
	metricInChannel = "rabbitmq_detailed_queue_messages_published_total"
)

// metricsOut4 and metricsOutChannel add up to deliver_get, the management
// API's count of messages out: deliveries and basic.gets, acknowledged
// or not (redeliveries are among the deliveries).
var (
	metricRedeliver4       = "rabbitmq_detailed_queue_messages_redelivered_total"
	metricRedeliverChannel = "rabbitmq_detailed_channel_messages_redelivered_total"
	metricsOut4            = []string{
		"rabbitmq_detailed_queue_messages_delivered_ack_total", "rabbitmq_detailed_queue_messages_delivered_total",
		"rabbitmq_detailed_queue_get_ack_total", "rabbitmq_detailed_queue_get_total",
	}
	metricsOutChannel = []string{
		"rabbitmq_detailed_channel_messages_delivered_ack_total", "rabbitmq_detailed_channel_messages_delivered_total",
		"rabbitmq_detailed_channel_get_ack_total", "rabbitmq_detailed_channel_get_total",
	}
)

// qkey names a queue: a queue's name is unique in its vhost.
type qkey struct{ vhost, name string }

// series is one counter's value; key names it among a queue's counters
// of one node (its metric and labels: channel, exchange).
type series struct {
	key string
	v   float64
}

// nodeQueue is what one node's exposition says of a queue.
type nodeQueue struct {
	ready, unacked, consumers *float64
	reductions                *float64
	typ                       string
	leader                    bool // queue_info says this node leads it
	in, out, redeliver        []series
}

// exposition is what a poll kept of one node's answer.
type exposition struct {
	// major is the broker's major version (build_info), 0 if not told.
	major int
	// queueLevel tells an answer with 4.x's per-queue counters: its
	// per-channel ones, if any, are then not read.
	queueLevel bool
	queues     map[qkey]*nodeQueue
	// bad counts samples left out (a name too long, a value not a count),
	// badErr is the first of them.
	bad    int
	badErr error
}

// maxLinesPerQueue bounds the lines of an exposition per queue watched:
// a 3.x broker has a dozen per queue and consumer channel. The parser
// holds every sample of an answer, so a peer's answer of tiny lines is
// refused past this rather than held.
const maxLinesPerQueue = 64

// errLines is the error of an exposition with more lines than that.
var errLines = errors.New("the exposition has more lines than the queues watched can need (raise --rabbitmq-max-queues)")

// decodeExposition reads a node's answer in the Prometheus text format
// with expfmt's parser, keeping the queues keep selects. A sample that is
// not a queue's figure is left out and counted; an answer that does not
// parse is an error, as is one of more than maxLines lines. The parser is
// a third party's: a panic of it is an error here.
func decodeExposition(r io.Reader, maxLines int, keep func(vhost, name string) bool) (e exposition, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the exposition parser failed: %v", p)
		}
	}()
	lr := &lineLimit{r: bufio.NewReaderSize(r, 32<<10), left: maxLines}
	p := expfmt.NewTextParser(pmodel.UTF8Validation)
	fams, err := p.TextToMetricFamilies(lr)
	if lr.over {
		return e, errLines
	}
	if err != nil {
		return e, fmt.Errorf("not the Prometheus text format expected: %w", err)
	}
	e.queues = map[qkey]*nodeQueue{}
	e.major = buildMajor(fams[metricBuild])
	e.queueLevel = fams[metricIn4] != nil
	for _, name := range metricsOut4 {
		e.queueLevel = e.queueLevel || fams[name] != nil
	}
	d := &decoder{e: &e, keep: keep}
	d.gauge(fams[metricReady], func(q *nodeQueue, v *float64) { q.ready = v })
	d.gauge(fams[metricUnacked], func(q *nodeQueue, v *float64) { q.unacked = v })
	d.gauge(fams[metricConsumers], func(q *nodeQueue, v *float64) { q.consumers = v })
	d.gauge(fams[metricReductions], func(q *nodeQueue, v *float64) { q.reductions = v })
	d.info(fams[metricInfo])
	in := func(q *nodeQueue, s series) { q.in = append(q.in, s) }
	out := func(q *nodeQueue, s series) { q.out = append(q.out, s) }
	redeliver := func(q *nodeQueue, s series) { q.redeliver = append(q.redeliver, s) }
	if e.queueLevel {
		d.counter(fams[metricIn4], "vhost", in)
		for _, name := range metricsOut4 {
			d.counter(fams[name], "vhost", out)
		}
		d.counter(fams[metricRedeliver4], "vhost", redeliver)
	} else {
		d.counter(fams[metricInChannel], "queue_vhost", in)
		for _, name := range metricsOutChannel {
			d.counter(fams[name], "vhost", out)
		}
		d.counter(fams[metricRedeliverChannel], "vhost", redeliver)
	}
	return e, nil
}

// decoder fills an exposition from the parsed families.
type decoder struct {
	e    *exposition
	keep func(vhost, name string) bool
}

// queue returns the queue a sample names by its labels vhostLabel and
// queue, or nil for one not selected or not a queue's (counted).
func (d *decoder) queue(m *dto.Metric, vhostLabel string) *nodeQueue {
	var vhost, name string
	var hasV, hasQ bool
	for _, l := range m.GetLabel() {
		switch l.GetName() {
		case vhostLabel:
			vhost, hasV = l.GetValue(), true
		case "queue":
			name, hasQ = l.GetValue(), true
		}
	}
	switch {
	case !hasV || !hasQ || name == "" || len(name) > maxName || len(vhost) > maxName:
		d.skip(fmt.Errorf("a sample without a queue and vhost of at most %d bytes", maxName))
		return nil
	case d.keep != nil && !d.keep(vhost, name):
		return nil
	}
	k := qkey{vhost, name}
	q := d.e.queues[k]
	if q == nil {
		q = &nodeQueue{}
		d.e.queues[k] = q
	}
	return q
}

func (d *decoder) skip(err error) {
	d.e.bad++
	if d.e.badErr == nil {
		d.e.badErr = err
	}
}

// value returns a sample's value if it is a count, else counts it.
func (d *decoder) value(m *dto.Metric, family string) (float64, bool) {
	var v float64
	switch {
	case m.GetGauge() != nil:
		v = m.GetGauge().GetValue()
	case m.GetCounter() != nil:
		v = m.GetCounter().GetValue()
	case m.GetUntyped() != nil:
		v = m.GetUntyped().GetValue()
	default:
		d.skip(fmt.Errorf("%.80s: not a gauge or counter", family))
		return 0, false
	}
	if math.IsNaN(v) || v < 0 || v > maxCount {
		d.skip(fmt.Errorf("%.80s: %v is not a count", family, v))
		return 0, false
	}
	return v, true
}

// gauge reads a family of one value per queue.
func (d *decoder) gauge(f *dto.MetricFamily, set func(*nodeQueue, *float64)) {
	for _, m := range f.GetMetric() {
		if q := d.queue(m, "vhost"); q != nil {
			if v, ok := d.value(m, f.GetName()); ok {
				set(q, &v)
			}
		}
	}
}

// info reads 4.x's queue_info: each queue's type, and whether this node
// leads it.
func (d *decoder) info(f *dto.MetricFamily) {
	for _, m := range f.GetMetric() {
		q := d.queue(m, "vhost")
		if q == nil {
			continue
		}
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case "queue_type":
				q.typ = queueType(l.GetValue())
			case "membership":
				q.leader = l.GetValue() == "leader"
			}
		}
	}
}

// counter reads a family of counters of queues, adding each sample to
// its queue's counters with add. A sample's key is its family and the
// labels other than the queue's.
func (d *decoder) counter(f *dto.MetricFamily, vhostLabel string, add func(*nodeQueue, series)) {
	for _, m := range f.GetMetric() {
		q := d.queue(m, vhostLabel)
		if q == nil {
			continue
		}
		v, ok := d.value(m, f.GetName())
		if !ok {
			continue
		}
		var key strings.Builder
		key.WriteString(f.GetName())
		labels := m.GetLabel()
		sort.Slice(labels, func(i, j int) bool { return labels[i].GetName() < labels[j].GetName() })
		for _, l := range labels {
			if n := l.GetName(); n != vhostLabel && n != "queue" {
				key.WriteString("\xff" + n + "=" + l.GetValue())
			}
		}
		add(q, series{key: key.String(), v: v})
	}
}

// buildMajor returns the major version of rabbitmq_build_info, or 0.
func buildMajor(f *dto.MetricFamily) int {
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "rabbitmq_version" {
				var major int
				fmt.Sscanf(l.GetValue(), "%d", &major)
				return major
			}
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

// lineLimit reads until left newlines have passed, then fails.
type lineLimit struct {
	r    *bufio.Reader
	left int
	over bool
}

func (l *lineLimit) Read(p []byte) (int, error) {
	if l.left < 0 {
		l.over = true
		return 0, errLines
	}
	n, err := l.r.Read(p)
	for _, c := range p[:n] {
		if c == '\n' {
			l.left--
		}
	}
	return n, err
}
