package zabbix

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"sync"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// Document is the sink of the agent mode: it keeps the latest value of
// every item of the agent template, and renders them as one JSON document
// that the host's Zabbix agent reads (web.page.get) for the template's
// master item; its dependent items and discovery rules take their values
// from it by JSONPath. The values then travel on the agent's connection,
// with its encryption (PSK included).
//
// The document holds the discovery rules' rows under "services" and
// "consumers", each with an identifier ({#SID}, {#CID}: hex digits, safe
// in a JSONPath whatever the names hold), and the values under "process"
// (the program's), "service" (a service's liveness and figures, by
// {#SID}), "self" (the program's own counters of a service, by {#SID}),
// "reason" (why a service was lost or is back, by {#SID}) and "consumer"
// (by {#CID}), named as in the keys. A Delta kind's value is its total since the start (the
// item's preprocessing turns it into the change between two reads).
type Document struct {
	mu       sync.Mutex
	services map[string]*docService
	process  map[string]float64
}

// docService is a service's part of the document.
type docService struct {
	values, self map[string]float64
	reason       string
	consumers    map[string]*docConsumer
}

// docConsumer is a consumer's part: the latest snapshot's values, and the
// totals of the Delta kinds.
type docConsumer struct {
	values map[string]float64
	totals map[report.Kind]float64
}

// NewDocument returns an empty document.
func NewDocument() *Document {
	return &Document{services: map[string]*docService{}, process: map[string]float64{}}
}

// Write takes an update: a snapshot replaces its consumers' values (those
// it no longer lists keep their rows, without values) and adds to their
// totals; a tick forgets the services no longer watched, and sets the
// liveness and the program's own values; a service found down loses its
// consumers' values, so that the agent reads none rather than old ones.
func (d *Document) Write(u report.Update) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, b := range u.Snapshots {
		d.snapshot(b)
	}
	if t := u.Tick; t != nil {
		d.tick(t)
	}
	for _, n := range u.Notices {
		if n.Kind == report.HubUp {
			d.service(n.Service).reason = n.Message
		}
	}
	return nil
}

func (d *Document) service(name string) *docService {
	s := d.services[name]
	if s == nil {
		s = &docService{values: map[string]float64{}, self: map[string]float64{}, consumers: map[string]*docConsumer{}}
		d.services[name] = s
	}
	return s
}

func (d *Document) snapshot(b report.Batch) {
	s := d.service(b.Service)
	for _, c := range s.consumers {
		c.values = nil // unless the snapshot lists it
	}
	listed := make([]*docConsumer, b.Consumers)
	for i := range b.Consumers {
		c := s.consumers[b.Subjects[i]]
		if c == nil {
			c = &docConsumer{totals: map[report.Kind]float64{}}
			s.consumers[b.Subjects[i]] = c
		}
		c.values = map[string]float64{}
		listed[i] = c
	}
	for _, v := range b.Values {
		if !pushed(v.Kind) || !finite(v.V) {
			continue
		}
		switch {
		case v.Kind.Scope() == report.Hub:
			s.values[v.Kind.Info().Name] = v.V
		case v.Kind.Scope() == report.Entry && v.Subject >= 0 && v.Subject < b.Consumers:
			c := listed[v.Subject]
			if v.Kind.Info().Type == report.Delta {
				if v.V > 0 {
					c.totals[v.Kind] += v.V
				}
				continue
			}
			c.values[v.Kind.Info().Name] = v.V
		}
	}
	for _, c := range listed {
		// As the trapper pushes it: a backlog that does not grow has a
		// growth rate of 0.
		if _, ok := c.values[report.Backlog.Info().Name]; ok {
			if _, ok := c.values[report.GrowthRate.Info().Name]; !ok {
				c.values[report.GrowthRate.Info().Name] = 0
			}
		}
		for k, total := range c.totals {
			c.values[k.Info().Name] = total
		}
	}
}

func (d *Document) tick(t *report.Tick) {
	for name := range d.services {
		if !slices.Contains(t.Watched, name) {
			delete(d.services, name)
		}
	}
	for _, b := range t.Liveness {
		s := d.service(b.Service)
		for _, v := range b.Values {
			if pushed(v.Kind) && finite(v.V) {
				s.values[v.Kind.Info().Name] = v.V
			}
		}
		if up, ok := b.Up(); ok && up == 0 {
			for _, c := range s.consumers {
				c.values = nil
			}
		}
	}
	for _, v := range t.Self.Values {
		if !pushed(v.Kind) || !finite(v.V) {
			continue
		}
		switch v.Kind.Scope() {
		case report.Endpoint:
			if v.Subject >= 0 && v.Subject < len(t.Self.Subjects) {
				d.service(t.Self.Subjects[v.Subject]).self[v.Kind.Info().Name] = v.V
			}
		case report.Process:
			d.process[v.Kind.Info().Name] = v.V
		}
	}
}

// finite says whether v is a value: JSON has no NaN or infinity.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// serviceID and consumerID are the identifiers of a service's and a
// consumer's rows and values: hex digits of a hash of the names, the same
// from one start to the next.
func serviceID(service string) string { return "s" + hash(service) }

func consumerID(service, consumer string) string { return "c" + hash(service+"\x00"+consumer) }

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// document is the JSON form.
type document struct {
	Services  []map[string]string           `json:"services"`
	Consumers []map[string]string           `json:"consumers"`
	Process   map[string]float64            `json:"process"`
	Service   map[string]map[string]float64 `json:"service"`
	Self      map[string]map[string]float64 `json:"self"`
	Reason    map[string]string             `json:"reason"`
	Consumer  map[string]map[string]float64 `json:"consumer"`
}

// JSON returns the document: its rows sorted by name, its objects' keys
// sorted, so that the same values give the same bytes.
func (d *Document) JSON() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	doc := document{Services: []map[string]string{}, Consumers: []map[string]string{}, Process: d.process,
		Service: map[string]map[string]float64{}, Self: map[string]map[string]float64{}, Reason: map[string]string{}, Consumer: map[string]map[string]float64{}}
	for _, name := range slices.Sorted(maps.Keys(d.services)) {
		s := d.services[name]
		sid := serviceID(name)
		doc.Services = append(doc.Services, map[string]string{"{#SERVICE}": name, "{#SID}": sid})
		doc.Service[sid], doc.Self[sid] = s.values, s.self
		if s.reason != "" {
			doc.Reason[sid] = s.reason
		}
		for _, cname := range slices.Sorted(maps.Keys(s.consumers)) {
			cid := consumerID(name, cname)
			doc.Consumers = append(doc.Consumers, map[string]string{"{#SERVICE}": name, "{#CONSUMER}": cname, "{#CID}": cid})
			if v := s.consumers[cname].values; v != nil {
				doc.Consumer[cid] = v
			}
		}
	}
	out, _ := json.Marshal(doc) // maps of strings and finite numbers
	return out
}
