package promexp

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

var t0 = time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC)

// snap is a hub's snapshot batch: consumers A, A (again) and a name that
// is not UTF-8, then a producer P.
func snap(at time.Time, in float64) report.Batch {
	return report.Batch{Service: "fedmsg-hub", Time: at, Interval: 5 * time.Second,
		Subjects: []string{"A", "A", "B\xff", "P"},
		Values: []report.Value{
			{Kind: report.Backlog, Subject: 0, V: 7},
			{Kind: report.HeadcountIn, Subject: 0, V: in},
			{Kind: report.HeadcountOut, Subject: 0, V: 2},
			{Kind: report.Exceptions, Subject: 0, V: 1},
			{Kind: report.Backlog, Subject: 1, V: 1},
			{Kind: report.HeadcountIn, Subject: 1, V: 100},
			{Kind: report.Backlog, Subject: 2, V: 0},
			{Kind: report.TimeCount, Subject: 2, V: 2},
			{Kind: report.TimeSum, Subject: 2, V: 0.5},
			{Kind: report.TimeLE0 + 3, Subject: 2, V: 1}, // le=0.05
			{Kind: report.TimeLE0 + 5, Subject: 2, V: 2}, // le=0.5
			{Kind: report.LastRanAge, Subject: 3, V: 10},
			{Kind: report.Consumers, V: 3},
		}}
}

func scrape(t *testing.T, s *Sink, names ...string) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s)
	var b strings.Builder
	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range fams {
		for _, n := range names {
			if f.GetName() == n {
				b.WriteString(f.String() + "\n")
			}
		}
	}
	return b.String()
}

// TestCounters: headcounts accumulate over publishes into counters, per
// consumer, a repeated name is its own series, a name that is not UTF-8
// is a valid label, and a hub's garbage never makes a counter go back.
func TestCounters(t *testing.T) {
	s := New(func() time.Time { return t0.Add(12 * time.Second) })
	s.Write([]report.Batch{snap(t0, 3)}, nil)
	s.Write([]report.Batch{snap(t0.Add(5*time.Second), 4)}, nil)
	s.Write([]report.Batch{snap(t0.Add(10*time.Second), -50)}, nil)
	s.Write([]report.Batch{snap(t0.Add(10*time.Second), math.NaN())}, nil)
	want := `
# HELP fedmsg_consumer_messages_in_total Messages queued for the consumer (the hub's headcount_in, summed over its publishes).
# TYPE fedmsg_consumer_messages_in_total counter
fedmsg_consumer_messages_in_total{consumer="A",service="fedmsg-hub"} 7
fedmsg_consumer_messages_in_total{consumer="A#2",service="fedmsg-hub"} 400
fedmsg_consumer_messages_in_total{consumer="B\uFFFD",service="fedmsg-hub"} 0
`
	if err := testutil.CollectAndCompare(s, strings.NewReader(strings.ReplaceAll(want, `\uFFFD`, "\uFFFD")), "fedmsg_consumer_messages_in_total"); err != nil {
		t.Error(err)
	}
	want = `
# HELP fedmsg_consumer_processing_seconds Processing times the hub listed, in seconds.
# TYPE fedmsg_consumer_processing_seconds histogram
fedmsg_consumer_processing_seconds_bucket{consumer="B\uFFFD",service="fedmsg-hub",le="0.001"} 0
fedmsg_consumer_processing_seconds_bucket{consumer="B\uFFFD",service="fedmsg-hub",le="0.005"} 0
fedmsg_consumer_processing_seconds_bucket{consumer="B\uFFFD",service="fedmsg-hub",le="0.01"} 0
fedmsg_consumer_processing_seconds_bucket{consumer="B\uFFFD",service="fedmsg-hub",le="0.05"} 4
fedmsg_consumer_processing_seconds_bucket{consumer="B\uFFFD",service="fedmsg-hub",le="0.1"} 0
fedmsg_consumer_processing_seconds_bucket{consumer="B\uFFFD",service="fedmsg-hub",le="0.5"} 8
fedmsg_consumer_processing_seconds_bucket{consumer="B\uFFFD",service="fedmsg-hub",le="1"} 0
fedmsg_consumer_processing_seconds_bucket{consumer="B\uFFFD",service="fedmsg-hub",le="5"} 0
fedmsg_consumer_processing_seconds_bucket{consumer="B\uFFFD",service="fedmsg-hub",le="10"} 0
fedmsg_consumer_processing_seconds_bucket{consumer="B\uFFFD",service="fedmsg-hub",le="60"} 0
fedmsg_consumer_processing_seconds_bucket{consumer="B\uFFFD",service="fedmsg-hub",le="600"} 0
fedmsg_consumer_processing_seconds_bucket{consumer="B\uFFFD",service="fedmsg-hub",le="+Inf"} 8
fedmsg_consumer_processing_seconds_sum{consumer="B\uFFFD",service="fedmsg-hub"} 2
fedmsg_consumer_processing_seconds_count{consumer="B\uFFFD",service="fedmsg-hub"} 8
`
	if err := testutil.CollectAndCompare(s, strings.NewReader(strings.ReplaceAll(want, `\uFFFD`, "\uFFFD")), "fedmsg_consumer_processing_seconds"); err != nil {
		t.Error(err)
	}
	want = `
# HELP fedmsg_producer_last_ran_timestamp_seconds When the producer's latest poll started, Unix time.
# TYPE fedmsg_producer_last_ran_timestamp_seconds gauge
fedmsg_producer_last_ran_timestamp_seconds{producer="P",service="fedmsg-hub"} 1.7962164e+09
# HELP fedmsg_hub_last_snapshot_age_seconds Seconds since the hub's newest snapshot arrived, at the scrape.
# TYPE fedmsg_hub_last_snapshot_age_seconds gauge
fedmsg_hub_last_snapshot_age_seconds{service="fedmsg-hub"} 2
`
	if err := testutil.CollectAndCompare(s, strings.NewReader(strings.ReplaceAll(want, `\uFFFD`, "\uFFFD")), "fedmsg_producer_last_ran_timestamp_seconds", "fedmsg_hub_last_snapshot_age_seconds"); err != nil {
		t.Error(err)
	}
}

// TestLiveness: hub_up follows the interval batches, and a hub no longer
// watched (not a subject of the program's own batch) is dropped.
func TestLiveness(t *testing.T) {
	s := New(nil)
	s.Write([]report.Batch{snap(t0, 1)}, nil)
	if n := testutil.CollectAndCount(s, "fedmsg_hub_up"); n != 0 {
		t.Errorf("hub_up before any interval: %d series", n)
	}
	s.Write([]report.Batch{{Service: "fedmsg-hub", Time: t0, Values: []report.Value{{Kind: report.HubUp, V: 0}}}}, nil)
	if v := testutil.ToFloat64(onlyUp{s}); v != 0 {
		t.Errorf("hub_up %v after a lost interval", v)
	}
	if n := testutil.CollectAndCount(s, "fedmsg_consumer_backlog"); n != 3 {
		t.Errorf("a lost hub keeps its last values: %d backlog series, want 3", n)
	}
	s.Write([]report.Batch{{Service: report.SelfService, Subjects: []string{"other"}}}, nil)
	if n := testutil.CollectAndCount(s, "fedmsg_consumer_backlog", "fedmsg_hub_up"); n != 0 {
		t.Errorf("a forgotten hub still has %d series", n)
	}
}

// onlyUp collects only fedmsg_hub_up of a sink.
type onlyUp struct{ s *Sink }

func (o onlyUp) Describe(chan<- *prometheus.Desc) {}
func (o onlyUp) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric)
	go func() { o.s.Collect(all); close(all) }()
	for m := range all {
		if strings.Contains(m.Desc().String(), `"fedmsg_hub_up"`) {
			ch <- m
		}
	}
}
