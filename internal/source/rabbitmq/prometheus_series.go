package rabbitmq

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"strconv"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
)

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
	// added and qadded are the series (by id) and queues this answer
	// made: forgotten if it fails, so that a failed answer leaves nothing.
	added  []uint64
	qadded []int32
	// maxQueues caps the queues kept: a series of another is left out.
	maxQueues int
	// texts, when not nil, holds each selected series' name and labels
	// as the answer wrote them, by id: what a check saves between runs
	// (state_prometheus.go).
	texts map[uint64]string
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
	c.maxQueues = max(1, maxLines/maxLinesPerQueue)
	c.added, c.qadded = c.added[:0], c.qadded[:0]
	defer func() {
		if err != nil {
			grew := len(c.added) > max(1024, len(c.byID)-len(c.added))
			c.forgetAdded()
			if grew {
				c.compact() // the maps and slices it grew: back to the cache's size
			}
		}
		if cap(c.added) > 4096 {
			c.added, c.qadded = nil, nil // a large answer's lists: not kept
		}
	}()
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
		i, dup, skip, err := c.take(bytes.TrimRight(line, "\r\n"), keep, maxLines)
		switch {
		case err != nil:
			return e, err
		case dup:
			e.skip(errDuplicate)
		case skip == errOverQueues:
			e.over++
		case skip != nil:
			e.skip(skip)
		case i >= 0:
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
	c.sweep(func(k qkey) {
		if q := e.queues[k]; q != nil {
			q.lostCounts = true
		}
	})
	return e, nil
}

// errOverQueues is why a series of a queue past the cap is left out.
var errOverQueues = errors.New("a series of a queue past --rabbitmq-max-queues")

// errDuplicate is why a sample given twice in an answer is left out.
var errDuplicate = errors.New("a series given twice in one answer: its first sample is taken")

// take returns the index of a line's series, parsing it if new, its
// value otherwise; -1 for a line of no metric read (a comment, another
// metric). A line that names a series already taken in this answer is a
// duplicate: the first copy counts, and dup says so. A sample that does
// not parse, or whose value is not a number, costs only its own series:
// skip says why it was left out. An error is a whole answer's.
func (c *seriesCache) take(line []byte, keep func(vhost, name string) bool, maxSeries int) (i int32, dup bool, skip, err error) {
	if len(bytes.TrimSpace(line)) == 0 || line[0] == '#' {
		return -1, false, nil, nil
	}
	end := bytes.IndexAny(line, "{ \t")
	if end < 0 || !isMetricName(line[:end]) {
		return -1, false, nil, fmt.Errorf("not the Prometheus text format expected: a line that is no sample: %.40q", line)
	}
	kind, ok := kinds[string(line[:end])]
	if !ok {
		return -1, false, nil, nil
	}
	name, value, err := splitSample(line, end)
	if err != nil {
		return -1, false, err, nil
	}
	id := maphash.Bytes(c.seed, name)
	i, ok = c.byID[id]
	switch {
	case ok && c.series[i].seen == c.answer:
		return -1, true, nil, nil
	case ok:
		v, err := strconv.ParseFloat(string(value), 64)
		if err != nil {
			return -1, false, fmt.Errorf("a sample whose value is not a number: %.40q", line), nil
		}
		c.series[i].v = v
	default:
		if len(c.byID) >= maxSeries {
			return -1, false, nil, errLines
		}
		s, err := c.parseSeries(line, kind, keep)
		if err != nil {
			return -1, false, err, nil
		}
		if n := len(c.free); n > 0 {
			i, c.free = c.free[n-1], c.free[:n-1]
			c.series[i] = s
		} else {
			i = int32(len(c.series))
			c.series = append(c.series, s)
		}
		c.byID[id] = i
		c.added = append(c.added, id)
		if c.texts != nil && (s.flags&(skipped|bad) == 0 || s.kind == kindBuild) {
			c.texts[id] = string(name)
		}
	}
	c.series[i].seen = c.answer
	return i, false, nil, nil
}

// parseSeries parses a line of a series not seen before with expfmt's
// parser: its queue (or why it is not one: a series that is not a
// queue's is kept as bad, to be counted each answer), its value, and for
// queue_info and build_info what their labels tell. The parser is a
// third party's: a panic of it is an error here.
func (c *seriesCache) parseSeries(line []byte, kind int, keep func(vhost, name string) bool) (s series, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the exposition parser failed: %v", p)
		}
	}()
	if c.parser == nil {
		p := expfmt.NewTextParser(pmodel.UTF8Validation)
		c.parser = &p
	}
	fams, err := c.parser.TextToMetricFamilies(bytes.NewReader(append(line[:len(line):len(line)], '\n')))
	if err != nil {
		return s, fmt.Errorf("not the Prometheus text format expected: %w", err)
	}
	var m *dto.Metric
	for _, f := range fams {
		if len(f.GetMetric()) == 1 {
			m = f.GetMetric()[0]
		}
	}
	if m == nil {
		return s, fmt.Errorf("not the Prometheus text format expected: %.40q", line)
	}
	s.kind = uint8(kind)
	switch {
	case m.GetUntyped() != nil:
		s.v = m.GetUntyped().GetValue()
	case m.GetGauge() != nil:
		s.v = m.GetGauge().GetValue()
	case m.GetCounter() != nil:
		s.v = m.GetCounter().GetValue()
	}
	if kind == kindBuild {
		s.typ = uint8(min(255, buildMajor(m)))
		return s, nil
	}
	vhostLabel := "vhost"
	if kind == kindIn+3*perChannel {
		vhostLabel = "queue_vhost"
	}
	var vhost, name string
	var hasV, hasQ bool
	for _, l := range m.GetLabel() {
		switch l.GetName() {
		case vhostLabel:
			vhost, hasV = l.GetValue(), true
		case "queue":
			name, hasQ = l.GetValue(), true
		case "queue_type":
			s.typ = uint8(slices.Index(queueTypes, queueType(l.GetValue())))
		case "membership":
			if l.GetValue() == "leader" {
				s.flags |= leader
			}
		}
	}
	switch {
	case !hasV || !hasQ || name == "" || len(name) > maxName || len(vhost) > maxName:
		s.flags |= bad
	case keep != nil && !keep(vhost, name):
		s.flags |= skipped
	default:
		k := qkey{vhost, name}
		if _, known := c.byName[k]; !known && len(c.byName) >= c.maxQueues {
			return s, errOverQueues // not kept: a million queues cost no memory
		}
		s.queue = c.queue(k)
	}
	return s, nil
}
