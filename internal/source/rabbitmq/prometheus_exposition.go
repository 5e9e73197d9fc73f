package rabbitmq

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
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
	// lengths: it tells when they were reported (prometheus_anchor.go).
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
	// lostCounts tells a counter of the queue that the node's previous
	// answer had is gone (its channel closed), with what it counted
	// since: the counts in and out may have missed messages.
	lostCounts bool
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
	// over counts the series of queues past the cap, left out.
	over int
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

// splitSample splits a sample line, whose metric name ends at end, into
// its series (the name and its labels) and its value; the time stamp the
// text format allows after the value is accepted and not used (the
// snapshot's time is the poll's). A label's value may hold spaces, braces
// and escaped quotes.
func splitSample(line []byte, end int) (series, value []byte, err error) {
	close := end
	if line[end] == '{' {
		quoted, escaped := false, false
		close = -1
		for j := end + 1; j < len(line) && close < 0; j++ {
			switch c := line[j]; {
			case escaped:
				escaped = false
			case c == '\\' && quoted:
				escaped = true
			case c == '"':
				quoted = !quoted
			case c == '}' && !quoted:
				close = j + 1
			}
		}
		if close < 0 {
			return nil, nil, fmt.Errorf("a sample whose labels do not close: %.40q", line)
		}
	}
	fields := bytes.Fields(line[close:])
	switch {
	case len(fields) == 0:
		return nil, nil, fmt.Errorf("a sample without a value: %.40q", line)
	case len(fields) > 2:
		return nil, nil, fmt.Errorf("a sample with more than a value and a time stamp: %.40q", line)
	case len(fields) == 2:
		if _, err := strconv.ParseInt(string(fields[1]), 10, 64); err != nil {
			return nil, nil, fmt.Errorf("a sample whose time stamp is not one: %.40q", line)
		}
	}
	return line[:close], fields[0], nil
}
