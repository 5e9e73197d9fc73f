package top

import (
	"bytes"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

func TestFormats(t *testing.T) {
	for _, tt := range []struct {
		got, want string
	}{
		{duration(math.NaN()), "-"},
		{duration(0.414), "0.41s"},
		{duration(42.4), "42s"},
		{duration(184), "3m04s"},
		{duration(7500), "2h05m"},
		{duration(3*86400 + 4*3600), "3d04h"},
		{duration(math.Inf(1)), "never"},
		{figure(0.123), "0.12"},
		{figure(19.74), "19.7"},
		{figure(250.4), "250"},
		{count(358), "358"},
		{spark([]float64{0, 1, 2, 4, 8}), "▁▂▂▄▇"}, // scaled to at least 10
		{spark([]float64{0, 10, 20, 40, 80}), "▁▂▃▅█"},
		{spark([]float64{0, 0}), "▁▁"},
		{spark([]float64{math.NaN(), 30}), " █"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// TestTable: a snapshot's values land in its consumers' rows, the trend
// follows the backlog across snapshots, liveness and a lost hub's notice
// show, and the program's own batch does not.
func TestTable(t *testing.T) {
	var out bytes.Buffer
	tb := New(&out, "title")
	at := time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC)
	snap := func(backlog float64) report.Batch {
		return report.Batch{Service: "fedmsg-hub", Time: at, Interval: 5 * time.Second,
			Subjects: []string{"FMNConsumer", "DigestProducer"},
			Values: []report.Value{
				{Kind: report.Backlog, Subject: 0, V: backlog},
				{Kind: report.ArrivalRate, Subject: 0, V: 9.93},
				{Kind: report.ExpectedWait, Subject: 0, V: 38},
				{Kind: report.GrowthRate, Subject: 0, V: 2.5},
				{Kind: report.LastRanAge, Subject: 1, V: 3},
			}}
	}
	for _, b := range []float64{0, 100, 200} {
		if err := tb.Write(report.Update{Snapshots: []report.Batch{snap(b)}}); err != nil {
			t.Fatal(err)
		}
	}
	s := out.String()
	last := s[strings.LastIndex(s, "title"):]
	for _, want := range []string{"fedmsg-hub: starting; snapshots every 5s, the latest at 13:00:00", "FMNConsumer", " 200 ▁▅█ ", "9.93", "38s", "+2.50/s"} {
		if !strings.Contains(last, want) {
			t.Errorf("screen lacks %q:\n%s", want, last)
		}
	}
	if strings.Contains(last, "DigestProducer") {
		t.Errorf("a producer in the consumers' table:\n%s", last)
	}
	out.Reset()
	tb.Write(report.Update{Tick: &report.Tick{Time: at, Watched: []string{"fedmsg-hub"},
		Liveness: []report.Batch{{Service: "fedmsg-hub", Time: at, Values: []report.Value{{Kind: report.HubUp, V: 0}}}},
		Self:     report.Batch{Service: report.SelfService, Subjects: []string{"fedmsg-hub"}, Values: []report.Value{{Kind: report.Snapshots, V: 3}}},
	}, Notices: []report.Notice{{Kind: report.HubUp, Severity: report.Failure, Service: "fedmsg-hub", Message: "no snapshot for 15s"}}})
	if s := out.String(); !strings.Contains(s, "fedmsg-hub: DOWN") || !strings.Contains(s, "no snapshot for 15s") || strings.Contains(s, report.SelfService) || !strings.Contains(s, " 200 ▁▅█ ") {
		t.Errorf("lost hub:\n%s", s)
	}
}

// TestColumnsCoverCatalogue fails when a kind of the catalogue is neither
// a column nor left out on purpose.
func TestColumnsCoverCatalogue(t *testing.T) {
	for _, k := range report.Kinds() {
		_, shown := colOf[k]
		if k == report.HubUp {
			shown = true // the hub's line
		}
		if shown == notShown(k) {
			t.Errorf("kind %v: shown %v, left out on purpose %v", k, shown, notShown(k))
		}
	}
}

// TestEightyColumns: every line of the table fits a terminal of 80
// columns, whatever the names and figures.
func TestEightyColumns(t *testing.T) {
	var out bytes.Buffer
	tb := New(&out, "fedmsg-collectd demo: a simulated hub at 10x, in hub time (rates per hub second)")
	tb.Epoch = time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC)
	b := report.Batch{Service: "fedmsg-hub", Time: tb.Epoch.Add(100 * time.Hour), Interval: 5 * time.Second,
		Subjects: []string{"SourceTarballHashConsumer", "AVeryLongConsumerNameIndeedThatGoesOn"}}
	for i := range b.Subjects {
		for _, k := range []report.Kind{report.Backlog, report.ArrivalRate, report.ServiceRate, report.ExpectedWait, report.P95, report.Utilization, report.Exceptions} {
			b.Values = append(b.Values, report.Value{Kind: k, Subject: i, V: 999999})
		}
		b.Values = append(b.Values, report.Value{Kind: report.GrowthRate, Subject: i, V: 99.9})
	}
	for range trendLen + 2 {
		tb.Write(report.Update{Snapshots: []report.Batch{b}})
	}
	s := out.String()
	s = s[strings.LastIndex(s, "fedmsg-collectd demo"):]
	for _, l := range strings.Split(regexp.MustCompile("\x1b\\[[A-Z]").ReplaceAllString(s, ""), "\n") {
		if n := utf8.RuneCountInString(l); n > 79 {
			t.Errorf("%d columns: %q", n, l)
		}
	}
	if !strings.Contains(s, "SourceTarballHash ") {
		t.Errorf("a long name without its Consumer:\n%s", s)
	}
}

// TestStalledShown: a stalled consumer says so in the drain column, with
// its oldest message's age beside its wait.
func TestStalledShown(t *testing.T) {
	var out bytes.Buffer
	tb := New(&out, "t")
	b := report.Batch{Service: "mq", Time: time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC), Interval: 5 * time.Second,
		Subjects: []string{"hungq"}, Consumers: 1, Values: []report.Value{
			{Kind: report.Backlog, V: 1700}, {Kind: report.ExpectedWait, V: 95}, {Kind: report.OldestAge, V: 130},
			{Kind: report.Stalled, V: 95}, {Kind: report.GrowthRate, V: 15}}}
	tb.Write(report.Update{Snapshots: []report.Batch{b}})
	s := regexp.MustCompile("\x1b\\[[A-Z]").ReplaceAllString(out.String(), "")
	if !regexp.MustCompile(`hungq +1700 .* 1m35s +2m10s +STALLED `).MatchString(s) {
		t.Errorf("no stalled row with wait 1m35s, oldest 2m10s:\n%s", s)
	}
}
