package zabbix

import (
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// lastItems are the values pushed last of the items of a service's
// consumer (or of the service, or of the process), by the slot of their
// kind, and their keys once made.
type lastItems struct {
	v    []lastPushed
	keys []string
}

// lastPushed is an item's value pushed last, and its time in Unix
// nanoseconds (no pointer for the collector to follow: there are one per
// kind of every consumer); of a Delta kind pushed every detail, the
// counts since, not pushed yet.
type lastPushed struct {
	v    float64
	at   int64
	set  bool
	held float64
}

// DefaultHeartbeat is how long a value that has not changed waits before
// it is pushed again: under the template's shortest period of a
// function ({$FEDMSG.NOCONSUMER.PERIOD} and {$FEDMSG.NODATA}, 5m), which
// needs a value within it.
const DefaultHeartbeat = time.Minute

// items returns the values pushed last of a service's consumer (or of
// the service, or of the process), made when new.
func (s *Sink) items(service, consumer string) *lastItems {
	k := [2]string{service, consumer}
	l := s.last[k]
	if l == nil {
		n := slots.other
		if consumer != "" {
			n = slots.entry
		}
		l = &lastItems{v: make([]lastPushed, n), keys: make([]string, n)}
		s.last[k] = l
	}
	return l
}

// DefaultDetail is how often the figures no trigger reads are pushed: a
// graph's resolution at Zabbix's usual item interval.
const DefaultDetail = time.Minute

// kindTraits are what the sink asks of a kind: whether it is pushed, its
// scope, whether it is a Delta kind, whether a trigger of the template
// reads a consumer's items of it (those go every Cadence.Alerted, the
// others every Cadence.Detail), and its slot in the lastItems of its
// scope's items.
type kindTraits struct {
	pushed, delta, alerted bool
	scope                  report.Scope
	slot                   int
}

// traits are the traits of every kind, by kind, worked out once; slots
// are how many slots a consumer's lastItems has (its pushed kinds), and
// the others'.
var traits, slots = func() ([]kindTraits, struct{ entry, other int }) {
	t := make([]kindTraits, len(report.Kinds()))
	var n struct{ entry, other int }
	for _, k := range report.Kinds() {
		t[k] = kindTraits{pushed: pushed(k), delta: k.Info().Type == report.Delta, scope: k.Scope(),
			alerted: len(consumerTriggers(trapperTemplate, k)) > 0, slot: -1}
		switch {
		case !t[k].pushed:
		case t[k].scope == report.Entry:
			t[k].slot, n.entry = n.entry, n.entry+1
		default:
			t[k].slot, n.other = n.other, n.other+1
		}
	}
	for _, k := range noConsumers {
		t[k].alerted = true
	}
	return t, n
}()

// Cadence says how often the sink pushes the values of an item.
type Cadence struct {
	// Alerted: a consumer's figures that a trigger reads go at most
	// every Alerted, the latest (0: at every snapshot).
	Alerted time.Duration
	// Detail: a consumer's other figures go at most every Detail, the
	// latest or of a Delta kind the sum of the counts since the value
	// pushed last (0: at every snapshot).
	Detail time.Duration
	// Heartbeat: a value equal to the one pushed last for its item goes
	// again only Heartbeat after it (0: every value).
	Heartbeat time.Duration
}

// due says whether a consumer's value at ns goes, every after the one
// pushed last at last: a second early at most (a quarter of every when
// shorter), as snapshots come a few milliseconds either side of their
// period.
func due(ns, last int64, every time.Duration) bool {
	return every <= 0 || ns < last || ns-last >= int64(every-min(every/4, time.Second))
}

// value queues the value of kind k of a service's consumer (or of the
// service, or of the process), whose values pushed last are items, as the
// cadence says.
func (s *Sink) value(items *lastItems, k report.Kind, service, consumer string, v float64, at time.Time) {
	tr := &traits[k]
	if tr.slot < 0 || (consumer != "") != (tr.scope == report.Entry) {
		return // not pushed, or not of these items
	}
	l := &items.v[tr.slot]
	ns := at.UnixNano()
	delta := tr.delta
	if delta {
		v += l.held
		l.held = 0
	}
	every := s.cadence.Detail
	if tr.alerted {
		every = s.cadence.Alerted
	}
	if l.set && tr.scope == report.Entry && !due(ns, l.at, every) {
		if delta {
			l.held = v
		}
		return
	}
	// A count is never left out, only nothing counted twice running.
	if hb := s.cadence.Heartbeat; hb > 0 && l.set && l.v == v && (!delta || v == 0) && ns-l.at < int64(hb) && ns >= l.at {
		return
	}
	*l = lastPushed{v: v, at: ns, set: true}
	if items.keys[tr.slot] == "" {
		items.keys[tr.slot] = key(k, service, consumer)
	}
	s.add(items.keys[tr.slot], v, at)
}
