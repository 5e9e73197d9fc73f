package promexp

import (
	"math"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// Describe sends nothing: the series depend on the hubs, so the Sink is an
// unchecked collector.
func (s *Sink) Describe(chan<- *prometheus.Desc) {}

// Collect sends every hub's series and the exporter's own.
func (s *Sink) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	hubs := make(map[string]*hubState, len(s.hubs))
	for sv, h := range s.hubs {
		hubs[sv] = h
	}
	self := s.self
	s.mu.Unlock()
	now := s.now()
	for sv, h := range hubs {
		sv = label(sv)
		if !math.IsNaN(h.up) {
			send(ch, hubUp, h.up, sv)
		}
		if h.at.IsZero() {
			continue
		}
		send(ch, snapAge, now.Sub(h.at).Seconds(), sv)
		send(ch, period, h.period.Seconds(), sv)
		for _, v := range h.values {
			send(ch, v.m, v.v, sv)
		}
		for _, p := range h.producers {
			send(ch, p.m, p.v, sv, p.name)
		}
		for _, c := range h.consumers {
			for _, v := range c.gauges {
				send(ch, v.m, v.v, sv, c.name)
			}
			send(ch, messagesIn, c.in, sv, c.name)
			send(ch, messagesOut, c.out, sv, c.name)
			send(ch, exceptions, c.exc, sv, c.name)
			if c.hasTimes {
				buckets := make(map[float64]uint64, len(report.TimeBounds))
				for i, le := range report.TimeBounds {
					buckets[le] = c.buckets[i]
				}
				ch <- prometheus.MustNewConstHistogram(processing, c.count, c.sum, buckets, sv, c.name)
			}
		}
	}
	if self != nil {
		for _, v := range self.counters {
			send(ch, v.m, v.v, v.name)
		}
		for _, v := range self.gauges {
			send(ch, v.m, v.v)
		}
	}
}

func send(ch chan<- prometheus.Metric, m metric, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(m.desc, m.typ, v, labels...)
}
