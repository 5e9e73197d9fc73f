package zabbix

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// newItemsGrace is how long after a discovery with new rows the server's
// failing values is no fault: it makes the items within its
// configuration cache's update period (CacheUpdateFrequency, 60 s by
// default), and fails their values until then.
const newItemsGrace = 2 * time.Minute

// discovered returns how long ago the latest discovery with new rows was
// pushed, as of now, and whether that is within newItemsGrace.
func (s *Sink) discovered(now time.Time) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ago := now.Sub(s.lldNew)
	return ago, !s.lldNew.IsZero() && ago < newItemsGrace
}

// see notes a service, and a consumer of it when not "".
func (s *Sink) see(service, consumer string) {
	if !s.services[service] {
		s.services[service], s.lldDirty = true, true
	}
	if consumer != "" && !s.pairs[[2]string{service, consumer}] {
		s.pairs[[2]string{service, consumer}], s.lldDirty = true, true
	}
}

// forget drops the services no longer watched, and their consumers: the
// next discovery leaves them out, and Zabbix deletes their items after
// the rule's lifetime.
func (s *Sink) forget(watched []string) {
	w := make(map[string]bool, len(watched))
	for _, sv := range watched {
		w[sv] = true
	}
	for sv := range s.reasons {
		if !w[sv] {
			delete(s.reasons, sv)
		}
	}

	gone := false
	for sv := range s.services {
		if !w[sv] {
			delete(s.services, sv)
			s.lldDirty, gone = true, true
		}
	}
	for p := range s.pairs {
		if !w[p[0]] {
			delete(s.pairs, p)
		}
	}
	if gone {
		for k := range s.last {
			if k[0] != "" && !w[k[0]] {
				delete(s.last, k)
			}
		}
	}
}

// discovery adds the values of both discovery rules, sorted.
func (s *Sink) discovery(at time.Time) {
	services := make([]map[string]string, 0, len(s.services))
	for _, sv := range slices.Sorted(maps.Keys(s.services)) {
		services = append(services, map[string]string{"{#SERVICE}": sv})
	}
	pairs := make([][2]string, 0, len(s.pairs))
	for p := range s.pairs {
		pairs = append(pairs, p)
	}
	slices.SortFunc(pairs, func(a, b [2]string) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	})
	consumers := make([]map[string]string, 0, len(pairs))
	for _, p := range pairs {
		consumers = append(consumers, map[string]string{"{#SERVICE}": p[0], "{#CONSUMER}": p[1]})
	}
	sj, _ := json.Marshal(services)
	cj, _ := json.Marshal(consumers)
	s.push(value{Host: s.host, Key: ServicesDiscovery, Value: string(sj), Clock: at.Unix(), NS: int64(at.Nanosecond())})
	s.push(value{Host: s.host, Key: ConsumersDiscovery, Value: string(cj), Clock: at.Unix(), NS: int64(at.Nanosecond())})
	if s.lldDirty {
		s.lldNew = at
	}
	s.lldSent, s.lldDirty, s.failedAtLLD = at, false, s.failed
}
