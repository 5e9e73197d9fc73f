package main

import (
	"sync"
	"testing"
	"time"
)

// The end-to-end tests mostly wait on servers they started, a few of
// them for minutes (consumers hung for 82 s; Zabbix's nodata and
// trigger periods), and a few measure, which a busy machine spoils. They
// take turns, turnLimit at a time, the longest first: Go's -parallel
// starts paused tests in no set order, so that the longest, started
// last, made the package's time (scripts/test runs it with -parallel
// above the number of tests, and this is what bounds them).

// turnLimit is how many end-to-end tests run at once.
const turnLimit = 5

// gatherTurns is how long the turns wait, after the first test asks,
// for the others (all released by Go at once) before the first is given.
const gatherTurns = 200 * time.Millisecond

// longTests are the tests that take longest, with about how many
// seconds each took in a run of the suite (go test -v): given their
// turn first, the longest first. The others follow in the order they
// asked.
var longTests = map[string]float64{
	"TestZabbixTriggersIntegration":     105,
	"TestZabbixSilentIntegration":       100,
	"TestRabbitMQIntegration":           80,
	"TestZabbixIntegration":             60,
	"TestRabbitMQPrometheusIntegration": 64,
	"TestRabbitMQClusterIntegration":    40,
	"TestRabbitMQCheckIntegration":      55,
	"TestZabbixAgentPSKIntegration":     25,
	"TestHugePrometheusIntegration":     23,
}

// waitingTests are tests that spend most of their time waiting, with
// little CPU (measured alone with /usr/bin/time around the test binary,
// its servers included; wall and CPU seconds on 2026-12-07): they take
// no turn, so that they do not hold one while the machine idles.
var waitingTests = map[string]bool{
	"TestRabbitMQStallIntegration":           true, // 149 s, 12 s
	"TestRabbitMQIncidentIntegration":        true, // 177 s, 16.5 s (two side by side)
	"TestRabbitMQHotQueuesIntegration":       true, // 78 s, 8.8 s
	"TestPrometheusIntegration":              true, // 24 s, 3.7 s
	"TestHostileHandshakeIntegration":        true, // 20 s, 2.5 s
	"TestNetdataIntegration":                 true, // 18 s, 2.7 s
	"TestGraphsIntegration":                  true, // 16 s, 3.7 s
	"TestDemoTerminalIntegration":            true, // 13.5 s, 3.0 s
	"TestCaptureReplayRoundTripIntegration":  true, // 12 s, 0.6 s
	"TestOversizeIntegration":                true, // 11 s, 2.2 s
	"TestCountersSourceIntegration":          true, // 10.3 s, 0.6 s
	"TestVanishedSocketIntegration":          true, // 9.2 s, 2.1 s
	"TestBrokerLostIntegration":              true, // 8.3 s, 0.3 s
	"TestSourcesNeverAnsweringIntegration":   true, // 8.3 s, 0.3 s
	"TestNeverAnsweringElsewhereIntegration": true, // 8.3 s, 0.4 s
}

// turns are the turns given and asked for.
var turns struct {
	sync.Mutex
	asked   bool // a test has asked
	open    bool // gatherTurns has passed since
	running int
	waiting []*turn
}

// turn is a test's request for its turn, closed when given.
type turn struct {
	weight float64
	given  chan struct{}
}

// parallel is t.Parallel, then t's turn: it returns when t may run, and
// t's end gives the turn to the next. A test of waitingTests runs at once.
func parallel(t *testing.T) {
	t.Parallel()
	if waitingTests[t.Name()] {
		return
	}
	w := &turn{weight: longTests[t.Name()], given: make(chan struct{})}
	turns.Lock()
	turns.waiting = append(turns.waiting, w)
	if !turns.asked {
		turns.asked = true
		time.AfterFunc(gatherTurns, func() {
			turns.Lock()
			turns.open = true
			giveTurns()
			turns.Unlock()
		})
	}
	giveTurns()
	turns.Unlock()
	<-w.given
	t.Cleanup(func() { // registered first, so run last: after t's servers stopped
		turns.Lock()
		turns.running--
		giveTurns()
		turns.Unlock()
	})
}

// giveTurns gives the free turns to the longest tests waiting, once the
// first have gathered; turns is locked.
func giveTurns() {
	for turns.open && turns.running < turnLimit && len(turns.waiting) > 0 {
		best := 0
		for i, w := range turns.waiting {
			if w.weight > turns.waiting[best].weight {
				best = i
			}
		}
		close(turns.waiting[best].given)
		turns.waiting = append(turns.waiting[:best], turns.waiting[best+1:]...)
		turns.running++
	}
}
