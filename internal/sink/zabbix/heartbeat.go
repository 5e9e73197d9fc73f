package zabbix

import (
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// lastItems are the values pushed last of the items of a service's
// consumer, by kind, and their keys once made.
type lastItems struct {
	v    []lastPushed
	keys []string
}

// lastPushed is an item's value pushed last, and its time in Unix
// nanoseconds (no pointer for the collector to follow: there are one per
// kind of every consumer).
type lastPushed struct {
	v   float64
	at  int64
	set bool
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
		l = &lastItems{v: make([]lastPushed, len(report.Kinds())), keys: make([]string, len(report.Kinds()))}
		s.last[k] = l
	}
	return l
}

// value queues the value of kind k of a service's consumer (or of the
// service, or of the process), whose values pushed last are items, unless
// it is the one pushed last for its item less than the heartbeat ago.
func (s *Sink) value(items *lastItems, k report.Kind, service, consumer string, v float64, at time.Time) {
	l := &items.v[k]
	ns := at.UnixNano()
	if s.heartbeat > 0 && l.set && l.v == v && ns-l.at < int64(s.heartbeat) && ns >= l.at {
		return
	}
	*l = lastPushed{v, ns, true}
	if items.keys[k] == "" {
		items.keys[k] = key(k, service, consumer)
	}
	s.add(items.keys[k], v, at)
}
