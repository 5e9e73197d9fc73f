// Package netdata is the Netdata sink: an external plugin speaking the
// plugins.d protocol on stdout (CHART and DIMENSION once per chart, then
// BEGIN, SET and END every update). It keeps the latest values of every
// hub and writes them all on each interval of the pipeline, which runs at
// Netdata's update_every.
//
// Charts, all of type "fedmsg" (one section of Netdata's menu), one family
// per hub and consumer: backlog, rates, waits, processing-time
// percentiles, utilisation, exceptions, and per hub whether it is up.
package netdata

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// dim is a dimension of a chart: the kind it shows and how.
type dim struct {
	id   string
	kind report.Kind
	alg  string  // absolute or incremental
	div  float64 // SET sends value*unit*div; Netdata divides by div again
	unit float64 // the chart's unit per the kind's (1000: seconds as milliseconds)
}

// chart is a kind of chart, made per consumer (or per hub).
type chart struct {
	suffix, title, units, context, typ string
	prio                               int
	dims                               []dim
}

// consumerCharts and hubCharts are the one table of Netdata names.
var consumerCharts = []chart{
	{"backlog", "Backlog", "messages", "fedmsg.consumer_backlog", "line", 1,
		[]dim{{"backlog", report.Backlog, "absolute", 1, 1}, {"unacked", report.InService, "absolute", 1, 1}}},
	{"workers", "Consumers attached (to a broker queue)", "consumers", "fedmsg.consumer_workers", "line", 7,
		[]dim{{"workers", report.Workers, "absolute", 1, 1}}},
	{"rates", "Arrival and service rates (smoothed), and the growth of the backlog", "messages/s", "fedmsg.consumer_rates", "line", 2,
		[]dim{{"arrival", report.ArrivalRate, "absolute", 1000, 1}, {"service", report.ServiceRate, "absolute", 1000, 1},
			{"growth", report.GrowthRate, "absolute", 1000, 1}}},
	// Durations in milliseconds: Netdata 1.37 draws "seconds" as
	// HH:MM:SS (a wait of 0.3 s as 00:00:00), milliseconds as 300.0,
	// 1.50 (seconds) or M:SS.ms.
	{"waits", "Expected wait, Little-law wait, drain time, age of the oldest message, time stalled", "milliseconds", "fedmsg.consumer_waits", "line", 3,
		[]dim{{"expected_wait", report.ExpectedWait, "absolute", 1, 1000}, {"wait", report.Wait, "absolute", 1, 1000},
			{"drain_time", report.DrainTime, "absolute", 1, 1000}, {"oldest_age", report.OldestAge, "absolute", 1, 1000},
			{"stalled", report.Stalled, "absolute", 1, 1000}}},
	{"processing", "Processing-time percentiles of the last publish", "milliseconds", "fedmsg.consumer_processing", "line", 4,
		[]dim{{"p50", report.P50, "absolute", 1000, 1000}, {"p95", report.P95, "absolute", 1000, 1000}, {"p99", report.P99, "absolute", 1000, 1000}}},
	{"utilization", "Busy workers", "workers", "fedmsg.consumer_utilization", "area", 5,
		[]dim{{"busy", report.Utilization, "absolute", 1000, 1}}},
	{"exceptions", "Exceptions", "exceptions/s", "fedmsg.consumer_exceptions", "line", 6,
		[]dim{{"exceptions", report.Exceptions, "incremental", 1, 1}}},
}

var hubCharts = []chart{
	{"up", "Hub up: its snapshots arrive", "boolean", "fedmsg.hub_up", "line", 0,
		[]dim{{"up", report.HubUp, "absolute", 1, 1}}},
}

// notCharted are the kinds left out on purpose: the program's own
// (Netdata watches its plugins itself), the hub's counts, producers', the
// histogram's and the old script's min, max and mean (the percentiles
// chart has them), the headcounts (the rates chart has them) and the
// snapshot age (the up chart says it).
func notCharted(k report.Kind) bool {
	switch in := k.Info(); {
	case in.Scope == report.Endpoint || in.Scope == report.Process || in.Type == report.Bucket:
		return true
	}
	switch k {
	case report.Consumers, report.Producers, report.Uninitialized, report.ProducerExceptions, report.LastRanAge,
		report.TimeMin, report.TimeMax, report.TimeAvg, report.HeadcountIn, report.HeadcountOut, report.LastSnapshotAge,
		report.Initialized, report.Frequency:
		return true
	}
	return false
}

// Sink writes the plugins.d protocol to w. Use New.
type Sink struct {
	w           *bufio.Writer
	updateEvery int
	hubs        map[string]*hub
	order       []string // services, in the order first seen
	defined     map[string]defined
	emitted     map[string]bool // charts written this update
}

type hub struct {
	up        float64
	consumers []*consumer
	totals    report.Totals // the Delta kinds added up, by consumer id
}

type consumer struct {
	id, name string                  // chart id prefix; the raw name for titles
	v        map[report.Kind]float64 // latest; NaN or absent: no value
}

// New returns a sink writing to w, charts updated every updateEvery
// seconds.
func New(w io.Writer, updateEvery int) *Sink {
	return &Sink{w: bufio.NewWriter(w), updateEvery: updateEvery, hubs: map[string]*hub{}, defined: map[string]defined{}, emitted: map[string]bool{}}
}

// Write takes in an update: every snapshot's values (exceptions add
// up over every one of them); on a tick, the liveness, and then every
// chart's latest values are written.
func (s *Sink) Write(u report.Update) error {
	for _, b := range u.Snapshots {
		s.take(s.hub(b.Service), b)
	}
	t := u.Tick
	if t == nil {
		return nil
	}
	s.keep(t.Watched)
	for _, b := range t.Liveness {
		if v, ok := b.Up(); ok {
			s.hub(b.Service).up = v
		}
	}
	for _, sv := range s.order {
		s.emit(sv, s.hubs[sv])
	}
	s.obsolete()
	return s.w.Flush()
}

// hub returns the state of a service, made when first seen.
func (s *Sink) hub(service string) *hub {
	h := s.hubs[service]
	if h == nil {
		h = &hub{up: math.NaN()}
		s.hubs[service] = h
		s.order = append(s.order, service)
	}
	return h
}

// keep drops the hubs not among the services watched now.
func (s *Sink) keep(watched []string) {
	w := make(map[string]bool, len(watched))
	for _, sv := range watched {
		w[sv] = true
	}
	order := s.order[:0]
	for _, sv := range s.order {
		if w[sv] {
			order = append(order, sv)
		} else {
			delete(s.hubs, sv)
		}
	}
	s.order = order
}

// Usage is the head of the netdata command's help, before its flags.
const Usage = "Usage: fedmsg-collectd netdata [UPDATE_EVERY] [flags]\n\n" +
	"A Netdata external plugin (plugins.d protocol on stdout): watches the hubs\n" +
	"as run does and updates their charts every UPDATE_EVERY seconds (default 1),\n" +
	"the argument Netdata gives its plugins. Installed as\n" +
	"plugins.d/fedmsg.plugin, a link to this binary, it runs this command.\n"

// UpdateEvery reads the update_every in seconds that Netdata gives its
// plugins as their first argument, if args starts with it (default 1),
// and returns the arguments after it.
func UpdateEvery(args []string) (int, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return 1, args, nil
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 || n > 86400 {
		return 0, nil, fmt.Errorf("update_every %q: want whole seconds from 1 to 86400", args[0])
	}
	return n, args[1:], nil
}
