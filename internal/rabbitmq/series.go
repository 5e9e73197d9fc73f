package rabbitmq

import (
	"bytes"
	"fmt"
	"slices"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
)

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
		s.queue = c.queue(qkey{vhost, name})
	}
	return s, nil
}
