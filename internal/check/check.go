package check

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/analytics"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
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
	// Missing is the state of a named consumer or producer that the hub
	// does not list: Unknown by default, Critical for "must exist".
	Missing Status
	// Now is the time last_ran ages are measured to.
	Now time.Time
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
	if spec.Wait.Set() || spec.Drain.Set() {
		return 2
	}
	return 1
}

// Evaluate checks the last of successive snapshots against spec; the ones
// before it give the expected wait and the drain time.
func Evaluate(snaps []model.Snapshot, spec Spec) Result {
	s := snaps[len(snaps)-1]
	figs := figuresOf(snaps)
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
		var matched []int
		for i, c := range s.Consumers {
			if name == All || c.Name == name {
				matched = append(matched, i)
			}
		}
		if len(matched) == 0 && name != All {
			note(missing, "consumer %s not found", name)
			res.Lines = append(res.Lines, name+": not found")
		}
		for _, i := range matched {
			c := s.Consumers[i]
			nConsumers++
			if !c.Initialized {
				note(Critical, "consumer %s is not initialized", c.Name)
				res.Lines = append(res.Lines, c.Name+": not initialized")
				continue
			}
			var parts []string
			if c.Backlog.Valid {
				parts = append(parts, "backlog "+value(c.Name+"_backlog", c.Backlog.V, "", spec.Backlog, c.Name+" backlog"))
			}
			if c.Exceptions.Valid {
				parts = append(parts, "exceptions "+value(c.Name+"_exceptions", c.Exceptions.V, "", spec.Exceptions, c.Name+" exceptions"))
			}
			if c.Workers.Valid {
				parts = append(parts, "consumers "+value(c.Name+"_consumers", c.Workers.V, "", spec.Workers, c.Name+" consumers"))
			}
			if spec.P95.Set() {
				if len(c.Times) == 0 {
					parts = append(parts, "no message processed, no p95")
				} else {
					ts := slices.Clone(c.Times)
					slices.Sort(ts)
					p95 := 1000 * analytics.Percentile(ts, 95)
					parts = append(parts, "p95 "+value(c.Name+"_p95", p95, "ms", spec.P95, c.Name+" processing time p95"))
				}
			}
			f := figs[i]
			if spec.Wait.Set() {
				if f.ExpectedWait.Valid {
					parts = append(parts, "expected wait "+value(c.Name+"_expected_wait", f.ExpectedWait.V, "s", spec.Wait, c.Name+" expected wait"))
				} else {
					parts = append(parts, "no processing time known, no expected wait")
				}
			}
			if spec.Drain.Set() {
				switch {
				case f.DrainTime.Valid:
					parts = append(parts, "drains in "+value(c.Name+"_drain_time", f.DrainTime.V, "s", spec.Drain, c.Name+" drain time"))
				case f.GrowthRate.Valid:
					st, r := spec.Drain.status(math.Inf(1))
					note(st, "%s backlog grows by %s msg/s (%s %s)", c.Name, num(f.GrowthRate.V), strings.ToLower(st.String()), r.Describe())
					parts = append(parts, "backlog grows by "+num(f.GrowthRate.V)+" msg/s")
				default:
					parts = append(parts, "backlog not shrinking")
				}
			}
			res.Lines = append(res.Lines, c.Name+": "+strings.Join(parts, ", "))
		}
	}
	for _, name := range spec.Producers {
		i := slices.IndexFunc(s.Producers, func(p model.Producer) bool { return p.Name == name })
		if i < 0 {
			note(missing, "producer %s not found", name)
			res.Lines = append(res.Lines, name+": not found")
			continue
		}
		p := s.Producers[i]
		if !p.Initialized {
			note(Critical, "producer %s is not initialized", p.Name)
			res.Lines = append(res.Lines, p.Name+": not initialized")
			continue
		}
		var parts []string
		switch {
		case p.Exceptions.Valid && spec.ProducerExceptions.Set():
			parts = append(parts, "exceptions "+value(p.Name+"_exceptions", p.Exceptions.V, "", spec.ProducerExceptions, p.Name+" exceptions"))
		case p.Exceptions.Valid:
			parts = append(parts, "exceptions "+num(p.Exceptions.V))
		}
		switch {
		case p.LastRan.Valid:
			// In float seconds: an epoch in nanoseconds overflows int64
			// past the year 2262, and a hub may send any float.
			now := float64(spec.Now.Unix()) + float64(spec.Now.Nanosecond())/1e9
			age := max(now-p.LastRan.V, 0)
			parts = append(parts, "last ran "+value(p.Name+"_last_ran", age, "s", spec.LastRan, p.Name+" last ran")+" ago")
		case spec.LastRan.Set() && p.Frequency.Valid:
			note(Unknown, "producer %s has not run yet", p.Name)
			parts = append(parts, "has not run yet")
		case spec.LastRan.Set():
			note(Unknown, "producer %s does not poll (no last_ran)", p.Name)
			parts = append(parts, "does not poll")
		}
		res.Lines = append(res.Lines, p.Name+": "+strings.Join(parts, ", "))
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

// figuresOf runs the analytics over snaps and returns the figures of the
// last snapshot's consumers, by index (zero for those not initialized).
func figuresOf(snaps []model.Snapshot) []analytics.Figures {
	h := analytics.NewHub(analytics.DefaultSmoothing)
	var figs []analytics.Figures
	for _, s := range snaps {
		var (
			cs    []analytics.Consumer
			index []int
		)
		seen := map[string]int{}
		for i := range s.Consumers {
			c := &s.Consumers[i]
			if !c.Initialized {
				continue
			}
			cs = append(cs, analytics.Consumer{Key: c.Name + "#" + strconv.Itoa(seen[c.Name]), Consumer: c})
			seen[c.Name]++
			index = append(index, i)
		}
		out := h.Update(s, cs, nil)
		figs = make([]analytics.Figures, len(s.Consumers))
		for j, i := range index {
			figs[i] = out[j]
		}
	}
	return figs
}
