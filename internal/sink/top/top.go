// Package top is a sink for people: a table per hub and consumer, redrawn
// in place on a terminal as each snapshot arrives, like top(1). It shows
// the figures an operator acts on: backlog and its trend, arrival and
// service rates, expected wait, drain time, the 95th percentile of
// processing times, utilisation, and whether the hub is up.
package top

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// trendLen is how many backlogs the trend column draws.
const trendLen = 6

// Table is the sink. Write redraws the whole table.
type Table struct {
	w io.Writer
	// Title heads the table, e.g. the command and its clock.
	Title string
	// Epoch, if set, makes times show as the time elapsed since it (a
	// demo's hub time) rather than as clock times.
	Epoch time.Time
	hubs  map[string]*hub
	buf   bytes.Buffer
}

type hub struct {
	up       float64 // HubUp: 1, 0, or NaN before the first interval
	last     time.Time
	rows     []row // in the hub's order
	notice   string
	interval time.Duration
}

type row struct {
	name  string
	v     [numCols]float64 // NaN where the snapshot had no value
	trend []float64
}

// The columns, in order.
const (
	colBacklog = iota
	colIn
	colOut
	colWait
	colOldest
	colDrain
	colGrowth
	colStalled
	colP95
	colExc
	numCols
)

var colOf = map[report.Kind]int{
	report.Backlog:      colBacklog,
	report.ArrivalRate:  colIn,
	report.ServiceRate:  colOut,
	report.ExpectedWait: colWait,
	report.OldestAge:    colOldest,
	report.DrainTime:    colDrain,
	report.GrowthRate:   colGrowth,
	report.Stalled:      colStalled,
	report.P95:          colP95,
	report.Exceptions:   colExc,
}

// notShown are the kinds the table leaves out on purpose, to fit a
// terminal: the program's own, the histogram, the hub's counts, the
// producers', and the figures an operator acts on less.
func notShown(k report.Kind) bool {
	switch in := k.Info(); {
	case in.Scope == report.Endpoint || in.Scope == report.Process || in.Type == report.Bucket:
		return true
	}
	switch k {
	case report.HeadcountIn, report.HeadcountOut, report.TimeMin, report.TimeMax, report.TimeAvg,
		report.ProducerExceptions, report.LastRanAge, report.Consumers, report.Producers, report.Uninitialized,
		report.Wait, report.P50, report.P99, report.Utilization, report.LastSnapshotAge, report.Workers, report.InService,
		report.Initialized, report.Frequency:
		return true
	}
	return false
}

// New returns a table that draws on w, a terminal.
func New(w io.Writer, title string) *Table {
	return &Table{w: w, Title: title, hubs: make(map[string]*hub)}
}

// Write takes in an update and redraws the table: every snapshot, the
// liveness of a tick, the notices.
func (t *Table) Write(u report.Update) error {
	for _, b := range u.Snapshots {
		t.add(t.hub(b.Service), b)
	}
	if u.Tick != nil {
		for _, b := range u.Tick.Liveness {
			if v, ok := b.Up(); ok {
				t.hub(b.Service).up = v
			}
		}
	}
	for _, n := range u.Notices {
		if h := t.hubs[n.Service]; h != nil && n.Kind == report.HubUp {
			h.notice = n.Message
		}
	}
	t.draw()
	_, err := t.w.Write(t.buf.Bytes())
	return err
}

// hub returns the state of a service, made when first seen.
func (t *Table) hub(service string) *hub {
	h := t.hubs[service]
	if h == nil {
		h = &hub{up: math.NaN()}
		t.hubs[service] = h
	}
	return h
}

// add takes a snapshot's consumer values.
func (t *Table) add(h *hub, b report.Batch) {
	h.last, h.interval = b.Time, b.Interval
	old := h.rows
	h.rows = nil
	index := make(map[int]int) // subject -> row
	for _, v := range b.Values {
		col, ok := colOf[v.Kind]
		if !ok || v.Kind.Scope() != report.Entry || v.Subject < 0 || v.Subject >= len(b.Subjects) {
			continue
		}
		i, ok := index[v.Subject]
		if !ok {
			i = len(h.rows)
			index[v.Subject] = i
			r := row{name: b.Subjects[v.Subject]}
			for c := range r.v {
				r.v[c] = math.NaN()
			}
			// The trend of the consumer of that name before.
			for _, o := range old {
				if o.name == r.name {
					r.trend = o.trend
					break
				}
			}
			h.rows = append(h.rows, r)
		}
		h.rows[i].v[col] = v.V
	}
	for i := range h.rows {
		r := &h.rows[i]
		r.trend = append(r.trend, r.v[colBacklog])
		if len(r.trend) > trendLen {
			r.trend = slices.Clone(r.trend[len(r.trend)-trendLen:])
		}
	}
}

// rowFormat lays out a row in 79 columns, to fit a terminal of 80; the
// cells are cut to their widths by fit.
const rowFormat = "%-17.17s %7s %-6s %6s %6s %6s %6s %7s %6s %3s"

// width is the most columns a line takes: a terminal of 80 wraps none.
const width = 79

// shortName is a consumer's name as its column shows it: without the
// "Consumer" that ends most fedmsg consumers' names, when it is too long.
func shortName(n string) string {
	if len(n) > 17 {
		n = strings.TrimSuffix(n, "Consumer")
	}
	return n
}

func (t *Table) draw() {
	b := &t.buf
	b.Reset()
	b.WriteString("\x1b[H") // home; each line clears its rest
	line := func(format string, a ...any) {
		l := fmt.Sprintf(format, a...)
		if r := []rune(l); len(r) > width {
			l = string(r[:width]) // a long service name or notice
		}
		b.WriteString(l)
		b.WriteString("\x1b[K\n")
	}
	line("%s", t.Title)
	line("")
	line(rowFormat, "CONSUMER", "BACKLOG", "TREND", "IN/s", "OUT/s", "WAIT", "OLDEST", "DRAIN", "P95", "EXC")
	names := make([]string, 0, len(t.hubs))
	for n := range t.hubs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		h := t.hubs[n]
		state := "starting"
		switch h.up {
		case 1:
			state = "up"
		case 0:
			state = "DOWN"
		}
		line("")
		at := "at " + h.last.Format("15:04:05")
		if !t.Epoch.IsZero() {
			at = duration(h.last.Sub(t.Epoch).Round(time.Second).Seconds()) + " into the run"
		}
		line("%s: %s; snapshots every %s, the latest %s", n, state, h.interval.Round(time.Millisecond), at)
		if h.up == 0 && h.notice != "" {
			line("  %s", h.notice)
		}
		for _, r := range h.rows {
			drain := duration(r.v[colDrain])
			if g := r.v[colGrowth]; g > 0 {
				drain = "+" + figure(g) + "/s"
			}
			if r.v[colStalled] > 0 {
				drain = "STALLED"
			}
			line(rowFormat,
				shortName(r.name), fit(count(r.v[colBacklog]), r.v[colBacklog], 7), spark(r.trend),
				fit(figure(r.v[colIn]), r.v[colIn], 6), fit(figure(r.v[colOut]), r.v[colOut], 6),
				duration(r.v[colWait]), duration(r.v[colOldest]), fit(drain, r.v[colGrowth], 7), duration(r.v[colP95]),
				fit(count(r.v[colExc]), r.v[colExc], 3))
		}
	}
	b.WriteString("\x1b[J") // clear below
}
