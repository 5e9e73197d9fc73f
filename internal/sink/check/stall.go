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
