package netdata

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// charted are the kinds the consumer charts show.
var charted = func() map[report.Kind]bool {
	m := map[report.Kind]bool{}
	for _, c := range consumerCharts {
		for _, d := range c.dims {
			m[d.kind] = true
		}
	}
	return m
}()

// take updates h with a snapshot's values.
func (s *Sink) take(h *hub, b report.Batch) {
	ids := distinct(b.Service, b.Subjects)
	h.totals = h.totals.Add(b, ids)
	bySubject := map[int]*consumer{}
	h.consumers = h.consumers[:0]
	for _, v := range b.Values {
		if !charted[v.Kind] || v.Kind.Scope() != report.Entry || v.Subject < 0 || v.Subject >= len(ids) {
			continue
		}
		c := bySubject[v.Subject]
		if c == nil {
			c = &consumer{id: ids[v.Subject], name: b.Subjects[v.Subject], v: map[report.Kind]float64{}}
			bySubject[v.Subject] = c
			h.consumers = append(h.consumers, c)
		}
		c.v[v.Kind] = v.V
	}
}

// emit writes the charts of a hub: defined the first time, then values.
func (s *Sink) emit(service string, h *hub) {
	hubID := "fedmsg." + sanitize(service)
	for _, c := range hubCharts {
		s.chart(hubID+"_"+c.suffix, c, clean(service), clean(service)+": "+c.title, false, func(d dim) (float64, bool) {
			return h.up, !math.IsNaN(h.up)
		})
	}
	for _, cs := range h.consumers {
		family := clean(service) + " " + clean(cs.name)
		for _, c := range consumerCharts {
			// A lost hub's last values are not current: gaps until it
			// is back.
			s.chart(cs.id+"_"+c.suffix, c, family, family+": "+c.title, h.up == 0, func(d dim) (float64, bool) {
				if d.kind.Info().Type == report.Delta {
					return h.totals[cs.id].Of(d.kind), true // a counter
				}
				v, ok := cs.v[d.kind]
				return v, ok
			})
		}
	}
}

// chart writes chart id's definition if not yet written, then its values
// (none when blank: gaps). A chart none of whose dimensions ever had a
// value (a broker queue's workers for a hub's consumer) is not made, nor
// a dimension that never had one (a broker's unacknowledged messages on a
// hub's backlog chart); one that gets a value later is added then.
func (s *Sink) chart(id string, c chart, family, title string, blank bool, value func(dim) (float64, bool)) {
	w := s.w
	var set [8]int64
	var has uint8
	for i, d := range c.dims {
		v, ok := value(d)
		x := math.Round(v * d.unit * d.div)
		if ok && !math.IsNaN(x) && math.Abs(x) <= 1e18 {
			set[i], has = int64(x), has|1<<i
		}
	}
	def, ok := s.defined[id]
	if !ok && has == 0 {
		return
	}
	s.emitted[id] = true
	if dims := def.dims | has; !ok || dims != def.dims {
		def = defined{dims: dims, head: fmt.Sprintf("CHART %s '' '%s' '%s' '%s' '%s' %s %d %d", id, clean(title), clean(c.units), family, c.context, c.typ, 70000+c.prio, s.updateEvery)}
		s.defined[id] = def
		fmt.Fprintf(w, "%s '' 'fedmsg-collectd' 'fedmsg'\n", def.head)
		for i, d := range c.dims {
			if def.dims&(1<<i) != 0 {
				fmt.Fprintf(w, "DIMENSION %s '' %s 1 %d ''\n", d.id, d.alg, int64(d.div))
			}
		}
	}
	fmt.Fprintf(w, "BEGIN %s\n", id)
	for i, d := range c.dims {
		if has&(1<<i) != 0 && !blank { // else a gap
			fmt.Fprintf(w, "SET %s = %d\n", d.id, set[i])
		}
	}
	w.WriteString("END\n")
}

// defined is a chart as defined to Netdata: its CHART line without its
// options, and the dimensions defined (bit i: the chart's dims[i]).
type defined struct {
	head string
	dims uint8
}

// obsolete tells Netdata that the charts defined but not written this
// update (a consumer gone from its hub, a hub no longer watched) are
// obsolete, and forgets them.
func (s *Sink) obsolete() {
	var gone []string
	for id := range s.defined {
		if !s.emitted[id] {
			gone = append(gone, id)
		}
	}
	slices.Sort(gone) // the same input, the same output
	for _, id := range gone {
		fmt.Fprintf(s.w, "%s 'obsolete' 'fedmsg-collectd' 'fedmsg'\n", s.defined[id].head)
		delete(s.defined, id)
	}
	clear(s.emitted)
}

// sanitize keeps letters, digits and _ of a name for a chart id.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return r
		}
		return '_'
	}, s)
}

// clean makes a name fit between the quotes of a CHART line: printable,
// valid UTF-8, no quotes.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r < 32 || r == 127 || r == '\'' || r == '"' {
			return '_'
		}
		return r
	}, s)
}

// distinct returns the chart id prefixes of a hub's subjects:
// fedmsg.SERVICE_NAME, sanitized, made distinct by report.Distinct.
func distinct(service string, subjects []string) []string {
	prefix := "fedmsg." + sanitize(service) + "_"
	return report.Distinct(subjects, func(n string) string { return prefix + sanitize(n) }, nil)
}
