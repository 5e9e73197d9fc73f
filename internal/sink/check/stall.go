package check

import (
	"fmt"
	"math"
	"strings"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// withheldText says why a broker's queue has no consumers count, rates
// or waits, and how to get them.
const withheldText = "the broker withholds its statistics (management_agent.disable_metrics_collector): " +
	"no consumers count, rates nor waits; check it with --rabbitmq-prometheus"

// withheld says whether c is a broker's queue whose broker gives its
// lengths and no statistics: its messages unacknowledged and no
// consumers count, which every answer with statistics has.
func withheld(c entry) bool {
	_, backlog := c.get(report.Backlog)
	_, unacked := c.get(report.InService)
	_, workers := c.get(report.Workers)
	return backlog && unacked && !workers
}

// stall says whether c is stalled (messages waiting, consumers attached,
// none taken for a whole window), with the state and what to say: a stall
// is at least WARNING, whatever the thresholds, for how long it will last
// is not known; CRITICAL past a critical wait or age.
func stall(c entry, wait, age Thresholds) (Status, string, bool) {
	stalled, ok := c.get(report.Stalled)
	if !ok || stalled <= 0 {
		return OK, "", false
	}
	// The oldest message has waited at least as long as the stall.
	st := Warning
	for _, th := range []Thresholds{wait, age} {
		if s, _ := th.status(stalled); s == Critical {
			st = Critical
		}
	}
	backlog, _ := c.get(report.Backlog)
	attached := ""
	if w, ok := c.get(report.Workers); ok {
		attached = fmt.Sprintf(", %s attached", plural(int(w), "consumer"))
	}
	return st, fmt.Sprintf("%s is stalled: %s waiting%s, nothing taken for %s s (%s)", c.raw, num(backlog), attached,
		num(math.Round(stalled)), strings.ToLower(st.String())), true
}

// incident checks what an incident shows of consumer c: a broker that
// withholds its statistics, the oldest message's age, a stall; it notes
// their states and returns what the consumer's line says of them.
func incident(c entry, spec Spec, note func(Status, string, ...any), value func(label string, v float64, uom string, t Thresholds, what string) string) []string {
	var parts []string
	if withheld(c) && (spec.Workers.Set() || spec.Wait.Set() || spec.Drain.Set()) {
		note(Unknown, "%s: %s", c.raw, withheldText)
		parts = append(parts, "statistics withheld")
	}
	if spec.Age.Set() {
		stalled, _ := c.get(report.Stalled)
		if v, ok := c.get(report.OldestAge); ok {
			parts = append(parts, "oldest "+value(c.name+"_oldest_age", v, "s", spec.Age, c.raw+" oldest message's age"))
		} else if stalled > 0 {
			// Waiting before the history began: at least the stall
			// (its state is the stall's, below).
			parts = append(parts, "oldest at least "+num(math.Round(stalled))+" s")
		} else if !withheld(c) {
			note(Unknown, "%s: the oldest message's age is not known yet: it was waiting before this check's history began%s", c.raw, spec.HistoryNote)
			parts = append(parts, "oldest age not known yet")
		}
	}
	if st, text, ok := stall(c, spec.Wait, spec.Age); ok {
		note(st, "%s", text)
		parts = append(parts, "STALLED")
	}
	return parts
}
