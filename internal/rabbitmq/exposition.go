package rabbitmq

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
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
	lv                        [2]counters // while decoding, by level
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
// with expfmt's parser, a part of at most chunkLines lines at a time (a
// family, or a share of a large one), so that what the parser holds
// stays small whatever the queues; it keeps the queues keep selects. A
// sample that is not a queue's figure is left out and counted; an answer
// that does not parse is an error, as is one of more than maxLines
// lines, or with a line over maxLineBytes. The parser is a third
// party's: a panic of it is an error here.
func decodeExposition(r io.Reader, maxLines int, keep func(vhost, name string) bool) (e exposition, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the exposition parser failed: %v", p)
		}
	}()
	e.queues = map[qkey]*nodeQueue{}
	d := &decoder{e: &e, keep: keep}
	p := expfmt.NewTextParser(pmodel.UTF8Validation)
	err = splitFamilies(r, maxLines, func(chunk []byte) error {
		fams, err := p.TextToMetricFamilies(bytes.NewReader(chunk))
		if err != nil {
			return fmt.Errorf("not the Prometheus text format expected: %w", err)
		}
		for name, f := range fams {
			d.family(name, f)
		}
		return nil
	})
	if err != nil {
		return e, err
	}
	if !d.build {
		return e, errors.New("not a RabbitMQ node's answer: no rabbitmq_build_info (the URL is that of the node's Prometheus listener, port 15692?)")
	}
	// 4.x's per-queue counters, when there, rather than its per-channel
	// ones.
	lv := perChannel
	if e.queueLevel {
		lv = perQueue
	}
	for _, q := range e.queues {
		q.in, q.out, q.redeliver = q.lv[lv].in, q.lv[lv].out, q.lv[lv].redeliver
		q.lv = [2]counters{}
	}
	return e, nil
}

// The levels of counters: 4.x's per queue, 3.x's (and 4.x's) per channel.
const (
	perQueue = iota
	perChannel
)

// counters are a queue's counters of one level.
type counters struct {
	in, out, redeliver []series
}

// family takes one parsed family.
func (d *decoder) family(name string, f *dto.MetricFamily) {
	in := func(lv int) func(*nodeQueue, series) {
		return func(q *nodeQueue, s series) { q.lv[lv].in = append(q.lv[lv].in, s) }
	}
	out := func(lv int) func(*nodeQueue, series) {
		return func(q *nodeQueue, s series) { q.lv[lv].out = append(q.lv[lv].out, s) }
	}
	redeliver := func(lv int) func(*nodeQueue, series) {
		return func(q *nodeQueue, s series) { q.lv[lv].redeliver = append(q.lv[lv].redeliver, s) }
	}
	switch {
	case name == metricReady:
		d.gauge(f, func(q *nodeQueue, v *float64) { q.ready = v })
	case name == metricUnacked:
		d.gauge(f, func(q *nodeQueue, v *float64) { q.unacked = v })
	case name == metricConsumers:
		d.gauge(f, func(q *nodeQueue, v *float64) { q.consumers = v })
	case name == metricReductions:
		d.gauge(f, func(q *nodeQueue, v *float64) { q.reductions = v })
	case name == metricInfo:
		d.info(f)
	case name == metricBuild:
		d.e.major, d.build = buildMajor(f), true
	case name == metricIn4:
		d.e.queueLevel = true
		d.counter(f, "vhost", in(perQueue))
	case slices.Contains(metricsOut4, name):
		d.e.queueLevel = true
		d.counter(f, "vhost", out(perQueue))
	case name == metricRedeliver4:
		d.counter(f, "vhost", redeliver(perQueue))
	case name == metricInChannel:
		d.counter(f, "queue_vhost", in(perChannel))
	case slices.Contains(metricsOutChannel, name):
		d.counter(f, "vhost", out(perChannel))
	case name == metricRedeliverChannel:
		d.counter(f, "vhost", redeliver(perChannel))
	}
}

// chunkLines is the most lines handed to the parser at once.
const chunkLines = 20000

// maxLineBytes bounds a line of an exposition: a sample's labels are a
// few names of at most 255 bytes.
const maxLineBytes = 64 << 10

// splitFamilies reads an exposition line by line and hands it to fn in
// parts: a part ends before a # HELP or # TYPE line of another family,
// or at chunkLines lines.
func splitFamilies(r io.Reader, maxLines int, fn func([]byte) error) error {
	br := bufio.NewReaderSize(r, maxLineBytes)
	var chunk []byte
	family, lines, total := "", 0, 0
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		err := fn(chunk)
		chunk, family, lines = chunk[:0], "", 0
		return err
	}
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			return fmt.Errorf("not the Prometheus text format expected: a line over %d KiB", maxLineBytes>>10)
		case err != nil && err != io.EOF:
			return err
		}
		if len(line) > 0 {
			if total++; total > maxLines {
				return errLines
			}
			if !read(line) {
				continue
			}
			if name, ok := metadataOf(line); ok && name != family {
				if family != "" || lines > 0 {
					if err := flush(); err != nil {
						return err
					}
				}
				family = name
			}
			chunk = append(chunk, line...)
			if lines++; lines >= chunkLines {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err == io.EOF {
			if len(chunk) > 0 && chunk[len(chunk)-1] != '\n' {
				chunk = append(chunk, '\n')
			}
			return flush()
		}
	}
}

// wanted are the metrics decodeExposition reads: the lines of others
// (the families asked for hold a few more) are not parsed.
var wanted = func() map[string]bool {
	m := map[string]bool{}
	for _, name := range append(append([]string{metricReady, metricUnacked, metricConsumers, metricReductions, metricInfo,
		metricBuild, metricIn4, metricRedeliver4, metricInChannel, metricRedeliverChannel}, metricsOut4...), metricsOutChannel...) {
		m[name] = true
	}
	return m
}()

// read says whether a line is one of a wanted metric (or a comment, or
// blank: the parser judges those).
func read(line []byte) bool {
	if name, ok := metadataOf(line); ok {
		return wanted[name]
	}
	if len(line) == 0 || line[0] == '#' {
		return true
	}
	end := bytes.IndexAny(line, "{ \t\n")
	if end < 0 {
		end = len(line)
	}
	// A line that is no metric's is left to the parser to refuse.
	return wanted[string(line[:end])] || !isMetricName(line[:end])
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

// metadataOf returns the family a # HELP or # TYPE line names.
func metadataOf(line []byte) (string, bool) {
	for _, p := range []string{"# HELP ", "# TYPE "} {
		if rest, ok := bytes.CutPrefix(line, []byte(p)); ok {
			name, _, _ := bytes.Cut(rest, []byte(" "))
			return string(bytes.TrimSpace(name)), true
		}
	}
	return "", false
}

// decoder fills an exposition from the parsed families.
type decoder struct {
	e     *exposition
	keep  func(vhost, name string) bool
	build bool // rabbitmq_build_info was there
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
