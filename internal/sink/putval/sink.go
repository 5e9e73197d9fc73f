package putval

import (
	"io"
	"slices"
	"unsafe"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// Sink writes the pipeline's neutral values to collectd: PUTVAL lines for
// batches, PUTNOTIF lines for notices, under HOST/SERVICE/TYPE-INSTANCE
// with the names of identOf and the names of consumers and producers made
// fit by Names. It owns collectd's write rules (see Write). Use it from
// one goroutine.
type Sink struct {
	host   string
	w      *Writer
	names  map[string]*names // per service
	second map[string]int64  // per service, the Unix second of the last snapshot written
	bs     []Batch
	vs     []Value
	ns     []Notification
	in     []report.Batch
	types  map[string]string // per broker service, its queue types as last notified
}

// names are the identifier names of a hub's subjects, kept while the hub
// sends the same names.
type names struct {
	raw, fit []string
}

// maxServices bounds the services whose names a Sink keeps.
const maxServices = 4096

// NewSink returns a Sink writing to w with host as the host field (it must
// have passed Host).
func NewSink(w io.Writer, host string) *Sink {
	return &Sink{host: host, w: NewWriter(w), names: make(map[string]*names), second: make(map[string]int64)}
}

// Write writes an update in one Write call on the underlying writer (in
// several of at most chunkValues lines each when it is larger): the
// snapshots collectd takes, then on a tick the liveness and the program's
// own values, then the notices. Left out are the values of a service's
// very first snapshot, whose period (the interval collectd would create
// its files with) is not measured yet, and a second snapshot within the
// same second, which collectd's rrdtool plugin refuses ("minimum one
// second step") for a hub publishing more than once a second.
func (s *Sink) Write(u report.Update) error {
	in := s.in[:0]
	for _, b := range u.Snapshots {
		sec := b.Time.Unix()
		if last, ok := s.second[b.Service]; b.Interval == 0 || ok && last == sec {
			continue
		}
		s.second[b.Service] = sec
		in = append(in, b)
	}
	if t := u.Tick; t != nil {
		in = append(in, t.Liveness...)
		in = append(in, t.Self)
		s.forget(t.Watched)
	}
	s.in = in
	notes := u.Notices
	if tn := s.typeNotices(u.Snapshots); tn != nil {
		notes = append(slices.Clip(notes), tn...)
	}
	return s.write(in, notes)
}

// forget drops what the sink keeps of services no longer watched.
func (s *Sink) forget(watched []string) {
	keep := make(map[string]bool, len(watched))
	for _, sv := range watched {
		keep[sv] = true
	}
	for sv := range s.second {
		if !keep[sv] {
			delete(s.second, sv)
		}
	}
}

// chunkValues is how many values a Write call on the underlying writer
// carries at most (about 100 bytes of line each): a broker of 10,000
// queues is 200,000 values, 20 MB of lines, which written at once were
// half the plugin's heap; in pieces of at most ~1 MB they go through
// collectd's widened pipe (WidenPipe) one after another.
const chunkValues = 8192

// write writes the batches, then the notices: in one Write call, or in
// several of at most chunkValues values each for a large update.
func (s *Sink) write(batches []report.Batch, notes []report.Notice) error {
	n := 0
	for _, b := range batches {
		n += len(b.Values)
	}
	s.bs, s.ns = s.bs[:0], s.ns[:0]
	vs := s.vs[:0]
	if want := min(n, 2*chunkValues); cap(vs) < want {
		vs = make([]Value, 0, want)
	}
	for _, b := range batches {
		for off := 0; off < len(b.Values) || off == 0; off += chunkValues {
			sub := b
			sub.Values = b.Values[off:min(off+chunkValues, len(b.Values))]
			start := len(vs)
			vs = s.appendValues(vs, sub)
			s.bs = append(s.bs, Batch{Host: s.host, Service: b.Service, Time: b.Time, Interval: b.Interval, Values: vs[start:len(vs):len(vs)]})
			if len(vs) >= chunkValues {
				if err := s.w.WriteAll(s.bs, nil); err != nil {
					return err
				}
				s.bs, vs = s.bs[:0], vs[:0]
			}
		}
	}
	s.vs = vs
	if cap(vs)*int(unsafe.Sizeof(Value{})) > maxKept && len(vs) < cap(vs)/4 {
		s.vs = nil // let an outlier's storage go
	}
	for _, n := range notes {
		id := identOf(n.Kind)
		s.ns = append(s.ns, Notification{Severity: severity(n.Severity), Time: n.Time, Host: s.host,
			Service: n.Service, Type: id.typ, TypeInstance: id.instance, Message: n.Message})
	}
	return s.w.WriteAll(s.bs, s.ns)
}

// appendValues appends the collectd values of b.
func (s *Sink) appendValues(vs []Value, b report.Batch) []Value {
	var fit []string
	for _, v := range b.Values {
		id := identOf(v.Kind)
		if id.typ == "" {
			continue
		}
		x := v.V
		if id.scale != 1 {
			x = id.scale * v.V
		}
		switch v.Kind.Scope() {
		case report.Entry:
			if v.Subject < 0 || v.Subject >= len(b.Subjects) {
				continue
			}
			if fit == nil {
				fit = s.fitted(b.Service, b.Subjects)
			}
			vs = append(vs, Value{Type: id.typ, TypeInstance: fit[v.Subject], Suffix: id.instance, Value: x})
		case report.Endpoint:
			if v.Subject < 0 || v.Subject >= len(b.Subjects) {
				continue
			}
			vs = append(vs, Value{Type: id.typ, TypeInstance: Field(b.Subjects[v.Subject] + "_" + id.instance), Value: x})
		default:
			vs = append(vs, Value{Type: id.typ, TypeInstance: id.instance, Value: x})
		}
	}
	return vs
}

// fitted returns Names(subjects), as computed for the service's previous
// batch when the names are the same.
func (s *Sink) fitted(service string, subjects []string) []string {
	nm := s.names[service]
	if nm != nil && equal(nm.raw, subjects) {
		return nm.fit
	}
	if nm == nil {
		if len(s.names) >= maxServices {
			clear(s.names)
		}
		nm = new(names)
		s.names[service] = nm
	}
	nm.raw, nm.fit = slices.Clone(subjects), Names(subjects)
	return nm.fit
}

// equal reports whether a and b hold the same names.
func equal(a, b []string) bool {
	return slices.Equal(a, b)
}

// Map returns the collectd batch of b, with values of its own.
func (s *Sink) Map(b report.Batch) Batch {
	return Batch{Host: s.host, Service: b.Service, Time: b.Time, Interval: b.Interval, Values: s.appendValues(nil, b)}
}
