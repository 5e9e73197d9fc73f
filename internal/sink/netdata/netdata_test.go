package netdata

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

var t0 = time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC)

func tick(liveness []report.Batch, services ...string) report.Update {
	return report.Update{Tick: &report.Tick{Time: t0, Watched: services, Liveness: liveness,
		Self: report.Batch{Service: report.SelfService, Time: t0, Subjects: services}}}
}

// TestProtocol: nothing is written between intervals; on one, charts are
// defined once and their values set, scaled to integers; names with
// quotes, spaces or bytes that are not UTF-8 give valid lines, a repeated
// name its own charts, and a missing or NaN value a gap.
func TestProtocol(t *testing.T) {
	var out bytes.Buffer
	s := New(&out, 2)
	snap := report.Batch{Service: "fedmsg-hub", Time: t0, Subjects: []string{"it's \"x\"\n\xff", "A", "A"},
		Values: []report.Value{
			{Kind: report.Backlog, Subject: 0, V: 5},
			{Kind: report.P95, Subject: 0, V: 0.25},
			{Kind: report.ArrivalRate, Subject: 0, V: math.NaN()},
			{Kind: report.Backlog, Subject: 1, V: 1},
			{Kind: report.Backlog, Subject: 2, V: 2},
			{Kind: report.Exceptions, Subject: 1, V: 3},
		}}
	s.Write(report.Update{Snapshots: []report.Batch{snap}})
	if out.Len() != 0 {
		t.Fatalf("written before an interval:\n%s", out.String())
	}
	s.Write(tick([]report.Batch{{Service: "fedmsg-hub", Values: []report.Value{{Kind: report.HubUp, V: 1}}}}, "fedmsg-hub"))
	first := out.String()
	for _, want := range []string{
		"CHART fedmsg.fedmsg_hub_up '' 'fedmsg-hub: Hub up: its snapshots arrive' 'boolean' 'fedmsg-hub' 'fedmsg.hub_up' line 70000 2 '' 'fedmsg-collectd' 'fedmsg'\n",
		"BEGIN fedmsg.fedmsg_hub_up\nSET up = 1\nEND\n",
		"CHART fedmsg.fedmsg_hub_it_s__x____backlog '' 'fedmsg-hub it_s _x__\uFFFD: Backlog'",
		"BEGIN fedmsg.fedmsg_hub_it_s__x____backlog\nSET backlog = 5\nEND\n",
		"BEGIN fedmsg.fedmsg_hub_it_s__x____processing\nSET p95 = 250000\nEND\n",
		"BEGIN fedmsg.fedmsg_hub_A_backlog\nSET backlog = 1\nEND\n",
		"BEGIN fedmsg.fedmsg_hub_A_2_backlog\nSET backlog = 2\nEND\n",
		"BEGIN fedmsg.fedmsg_hub_A_exceptions\nSET exceptions = 3\nEND\n",
	} {
		if !strings.Contains(first, want) {
			t.Errorf("lacks %q", want)
		}
	}
	if strings.Contains(first, "_rates") || strings.Contains(first, "_workers") {
		t.Errorf("charts made that never had a value:\n%s", first)
	}
	for i, l := range strings.Split(strings.TrimSuffix(first, "\n"), "\n") {
		if strings.Count(l, "'")%2 != 0 {
			t.Errorf("line %d: unbalanced quotes: %q", i, l)
		}
	}
	// The next interval: no definitions again; the exceptions counter
	// adds up the next snapshot's.
	out.Reset()
	snap.Values[5].V = 4
	u := tick(nil, "fedmsg-hub")
	u.Snapshots = []report.Batch{snap}
	s.Write(u)
	if strings.Contains(out.String(), "CHART") || !strings.Contains(out.String(), "SET exceptions = 7\n") {
		t.Errorf("second interval:\n%s", out.String())
	}
	if strings.Contains(first, "DIMENSION unacked") {
		t.Errorf("a broker's dimension on a hub's chart:\n%s", first)
	}
	// A lost hub: its consumers' charts have gaps, not its last values.
	out.Reset()
	s.Write(tick([]report.Batch{{Service: "fedmsg-hub", Values: []report.Value{{Kind: report.HubUp, V: 0}}}}, "fedmsg-hub"))
	if lost := out.String(); !strings.Contains(lost, "BEGIN fedmsg.fedmsg_hub_A_backlog\nEND\n") || !strings.Contains(lost, "SET up = 0\n") {
		t.Errorf("a lost hub:\n%s", lost)
	}
	// A consumer gone from its hub: its charts are made obsolete, once.
	out.Reset()
	snap.Subjects, snap.Values = snap.Subjects[1:2], []report.Value{{Kind: report.Backlog, Subject: 0, V: 1}, {Kind: report.InService, Subject: 0, V: 2}}
	u = tick([]report.Batch{{Service: "fedmsg-hub", Values: []report.Value{{Kind: report.HubUp, V: 1}}}}, "fedmsg-hub")
	u.Snapshots = []report.Batch{snap}
	s.Write(u)
	gone := out.String()
	if n := strings.Count(gone, "'obsolete'"); n != 5 || !strings.Contains(gone, "CHART fedmsg.fedmsg_hub_A_2_backlog '' 'fedmsg-hub A: Backlog' 'messages' 'fedmsg-hub A' 'fedmsg.consumer_backlog' line 70001 2 'obsolete' 'fedmsg-collectd' 'fedmsg'\n") {
		t.Errorf("%d charts made obsolete, want 5 (3 of one consumer, 2 of the other A):\n%s", n, gone)
	}
	// A dimension that gets a value later is added.
	if !strings.Contains(gone, "DIMENSION backlog '' absolute 1 1 ''\nDIMENSION unacked '' absolute 1 1 ''\nBEGIN fedmsg.fedmsg_hub_A_backlog\nSET backlog = 1\nSET unacked = 2\nEND\n") {
		t.Errorf("unacked not added:\n%s", gone)
	}
	out.Reset()
	s.Write(u)
	if strings.Contains(out.String(), "obsolete") || strings.Contains(out.String(), "CHART") {
		t.Errorf("obsolete twice, or defined again:\n%s", out.String())
	}
	// A hub no longer watched: its charts are made obsolete, then it is
	// no longer written.
	out.Reset()
	s.Write(tick(nil, "other"))
	if n := strings.Count(out.String(), "'obsolete'"); n != strings.Count(out.String(), "\n") || n != 3 {
		t.Errorf("a forgotten hub: %d charts made obsolete, want 3 and nothing else:\n%s", n, out.String())
	}
	out.Reset()
	s.Write(tick(nil, "other"))
	if out.Len() != 0 {
		t.Errorf("a forgotten hub written:\n%s", out.String())
	}
}

// TestChartsCoverCatalogue fails when a kind of the catalogue is neither
// charted nor left out on purpose.
func TestChartsCoverCatalogue(t *testing.T) {
	shown := map[report.Kind]bool{}
	for _, cs := range [][]chart{consumerCharts, hubCharts} {
		for _, c := range cs {
			for _, d := range c.dims {
				shown[d.kind] = true
			}
		}
	}
	for _, k := range report.Kinds() {
		if shown[k] == notCharted(k) {
			t.Errorf("kind %v: charted %v, left out on purpose %v", k, shown[k], notCharted(k))
		}
	}
}

// TestChartWords: no chart's title or units holds a quote, which would
// end its field of the CHART line early (Netdata then drops the chart and
// its alarms); and the line as written holds none that it should not.
func TestChartWords(t *testing.T) {
	for _, c := range append(slices.Clone(consumerCharts), hubCharts...) {
		if strings.ContainsAny(c.title+c.units, `'"`) {
			t.Errorf("chart %s: title %q or units %q with a quote", c.suffix, c.title, c.units)
		}
	}
	if got := clean("a broker's \"queue\""); got != "a broker_s _queue_" {
		t.Errorf("clean: %q", got)
	}
}
