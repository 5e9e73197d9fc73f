package check

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// Status is a plugin state, with its exit code as value.
type Status int

// The states of the guidelines.
const (
	OK       Status = 0
	Warning  Status = 1
	Critical Status = 2
	Unknown  Status = 3
)

func (s Status) String() string {
	return [...]string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}[s]
}

// rank orders states for the overall result: CRITICAL, then WARNING, then
// UNKNOWN, then OK.
func (s Status) rank() int { return [...]int{0, 2, 3, 1}[s] }

// Worse returns the worse of two states.
func Worse(a, b Status) Status {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// Thresholds are a warning and a critical range for one kind of value.
type Thresholds struct{ Warn, Crit Range }

// Set reports whether either range was given.
func (t Thresholds) Set() bool { return t.Warn.Set() || t.Crit.Set() }

func (t Thresholds) status(v float64) (Status, Range) {
	switch {
	case t.Crit.Alert(v):
		return Critical, t.Crit
	case t.Warn.Alert(v):
		return Warning, t.Warn
	}
	return OK, Range{}
}

// All selects every consumer of the snapshot.
const All = "*"

// Spec is what to check in a snapshot.
type Spec struct {
	// Consumers and Producers are the names that must be present and
	// initialized; their values are checked against the thresholds.
	// Consumers may hold All.
	Consumers, Producers []string
	// Thresholds per kind of value: consumer backlog and exceptions (per
	// publish), processing time p95 in milliseconds, producer seconds since
	// last_ran.
	Backlog, Exceptions, P95, LastRan Thresholds
	// ProducerExceptions are thresholds on the checked producers'
	// consecutive failed polls: a producer whose poll failed has stopped.
	ProducerExceptions Thresholds
	// Wait and Drain are thresholds in seconds on the consumers' expected
	// wait and drain time, which need two snapshots (Probe reads them); a
	// growing backlog takes for ever to drain.
	Wait, Drain Thresholds
	// Workers are thresholds on the consumers attached to a broker's
	// queue (a hub's consumers have none).
	Workers Thresholds
	// Age are thresholds in seconds on the age of the oldest message
	// waiting, which needs the history a check keeps between its runs
	// (state.go); a stall at least as long is at least as bad.
	Age Thresholds
	// Missing is the state of a named consumer or producer that the hub
	// does not list: Unknown by default, Critical for "must exist".
	Missing Status
	// HistoryNote ends what is said of a figure not known yet: where the
	// history is kept, or that it is not.
	HistoryNote string
}

// Perf is one performance data item.
type Perf struct {
	Label      string
	Value      float64
	UOM        string
	Warn, Crit Range
}

// Result is the outcome of a check.
type Result struct {
	Status Status
	// Problems are the findings that set the state, worst first.
	Problems []string
	// Summary is the status text when there is no problem.
	Summary string
	// Lines are the long output, one per checked item.
	Lines []string
	Perf  []Perf
}

type finding struct {
	status Status
	text   string
}

// Snapshots is how many successive snapshots spec needs: two for the
// expected wait and the drain time, else one.
func (spec Spec) Snapshots() int {
	if spec.Wait.Set() || spec.Drain.Set() || spec.Age.Set() {
		return 2
	}
	return 1
}

// entry is what a batch holds of one consumer or producer.
type entry struct {
	name string // as run names it (report.FieldNames)
	raw  string // as the hub lists it
	v    map[report.Kind]float64
}

func (e entry) get(k report.Kind) (float64, bool) {
	v, ok := e.v[k]
	return v, ok
}

// entries splits a snapshot's batch into its consumers and producers,
// named as run names them.
func entries(b report.Batch) (consumers, producers []entry) {
	names := report.FieldNames(b.Subjects)
	all := make([]entry, len(b.Subjects))
	for i := range all {
		all[i] = entry{name: names[i], raw: b.Subjects[i], v: map[report.Kind]float64{}}
	}
	for _, v := range b.Values {
		if v.Kind.Scope() == report.Entry && v.Subject >= 0 && v.Subject < len(all) {
			all[v.Subject].v[v.Kind] = v.V
		}
	}
	n := min(max(b.Consumers, 0), len(all))
	return all[:n], all[n:]
}

// Evaluate checks a snapshot's batch, as the pipeline derived it (the
// analytics from the snapshots before it), against spec.
func Evaluate(b report.Batch, spec Spec) Result {
	consumers, producers := entries(b)
	var (
		res      Result
		findings []finding
	)
	note := func(st Status, format string, args ...any) {
		if st != OK {
			findings = append(findings, finding{st, fmt.Sprintf(format, args...)})
		}
		res.Status = Worse(res.Status, st)
	}
	missing := spec.Missing
	if missing == OK {
		missing = Unknown
	}
	value := func(label string, v float64, uom string, t Thresholds, what string) string {
		res.Perf = append(res.Perf, Perf{Label: label, Value: v, UOM: uom, Warn: t.Warn, Crit: t.Crit})
		st, r := t.status(v)
		shown := num(v) + uomText(uom)
		if uom == "s" {
			shown = num(math.Round(v)) + " s"
		}
		note(st, "%s %s (%s %s)", what, shown, strings.ToLower(st.String()), r.Describe())
		return shown
	}

	nConsumers := 0
	for _, name := range spec.Consumers {
		var matched []entry
		for _, c := range consumers {
			if name == All || c.raw == name {
				matched = append(matched, c)
			}
		}
		if len(matched) == 0 && name != All {
			note(missing, "consumer %s not found", name)
			res.Lines = append(res.Lines, name+": not found")
		}
		for _, c := range matched {
			nConsumers++
			if ok, _ := c.get(report.Initialized); ok == 0 {
				note(Critical, "consumer %s is not initialized", c.raw)
				res.Lines = append(res.Lines, c.raw+": not initialized")
				continue
			}
			var parts []string
			if v, ok := c.get(report.Backlog); ok {
				parts = append(parts, "backlog "+value(c.name+"_backlog", v, "", spec.Backlog, c.raw+" backlog"))
			}
			parts = append(parts, incident(c, spec, note, value)...)
			if v, ok := c.get(report.Exceptions); ok {
				parts = append(parts, "exceptions "+value(c.name+"_exceptions", v, "", spec.Exceptions, c.raw+" exceptions"))
			}
			if v, ok := c.get(report.Workers); ok {
				parts = append(parts, "consumers "+value(c.name+"_consumers", v, "", spec.Workers, c.raw+" consumers"))
			}
			if spec.P95.Set() {
				if v, ok := c.get(report.P95); ok {
					parts = append(parts, "p95 "+value(c.name+"_p95", 1000*v, "ms", spec.P95, c.raw+" processing time p95"))
				} else {
					parts = append(parts, "no message processed, no p95")
				}
			}
			if spec.Wait.Set() {
				if v, ok := c.get(report.ExpectedWait); ok {
					parts = append(parts, "expected wait "+value(c.name+"_expected_wait", v, "s", spec.Wait, c.raw+" expected wait"))
				} else {
					parts = append(parts, "no expected wait: capacity not seen yet")
				}
			}
			if spec.Drain.Set() {
				drain, okDrain := c.get(report.DrainTime)
				growth, okGrowth := c.get(report.GrowthRate)
				switch {
				case okDrain:
					parts = append(parts, "drains in "+value(c.name+"_drain_time", drain, "s", spec.Drain, c.raw+" drain time"))
				case okGrowth:
					st, r := spec.Drain.status(math.Inf(1))
					note(st, "%s backlog grows by %s msg/s (%s %s)", c.raw, num(growth), strings.ToLower(st.String()), r.Describe())
					parts = append(parts, "backlog grows by "+num(growth)+" msg/s")
				default:
					parts = append(parts, "backlog not shrinking")
				}
			}
			res.Lines = append(res.Lines, c.raw+": "+strings.Join(parts, ", "))
		}
	}
	for _, name := range spec.Producers {
		i := slices.IndexFunc(producers, func(p entry) bool { return p.raw == name })
		if i < 0 {
			note(missing, "producer %s not found", name)
			res.Lines = append(res.Lines, name+": not found")
			continue
		}
		p := producers[i]
		if ok, _ := p.get(report.Initialized); ok == 0 {
			note(Critical, "producer %s is not initialized", p.raw)
			res.Lines = append(res.Lines, p.raw+": not initialized")
			continue
		}
		var parts []string
		exc, okExc := p.get(report.ProducerExceptions)
		switch {
		case okExc && spec.ProducerExceptions.Set():
			parts = append(parts, "exceptions "+value(p.name+"_exceptions", exc, "", spec.ProducerExceptions, p.raw+" exceptions"))
		case okExc:
			parts = append(parts, "exceptions "+num(exc))
		}
		_, polls := p.get(report.Frequency)
		switch age, ok := p.get(report.LastRanAge); {
		case ok:
			parts = append(parts, "last ran "+value(p.name+"_last_ran", age, "s", spec.LastRan, p.raw+" last ran")+" ago")
		case spec.LastRan.Set() && polls:
			note(Unknown, "producer %s has not run yet", p.raw)
			parts = append(parts, "has not run yet")
		case spec.LastRan.Set():
			note(Unknown, "producer %s does not poll (no last_ran)", p.raw)
			parts = append(parts, "does not poll")
		}
		res.Lines = append(res.Lines, p.raw+": "+strings.Join(parts, ", "))
	}

	slices.SortStableFunc(findings, func(a, b finding) int { return b.status.rank() - a.status.rank() })
	for _, f := range findings {
		res.Problems = append(res.Problems, f.text)
	}
	res.Summary = fmt.Sprintf("%s checked", plural(nConsumers, "consumer"))
	if len(spec.Producers) > 0 {
		res.Summary = fmt.Sprintf("%s and %s checked", plural(nConsumers, "consumer"), plural(len(spec.Producers), "producer"))
	}
	if len(res.Lines) == 1 && res.Status == OK {
		res.Summary = res.Lines[0]
	}
	return res
}
