package promexp

import (
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

var t0 = time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC)

// snap is a hub's snapshot batch: consumers A, A (again) and a name that
// is not UTF-8 and has a quote, then a producer P.
func snap(at time.Time, in float64) report.Batch {
	return report.Batch{Service: "fedmsg-hub", Time: at, Interval: 5 * time.Second,
		Subjects: []string{"A", "A", "B\"\xff", "P"},
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
			{Kind: report.TimeLE0 + 37, Subject: 2, V: 1}, // le=0.05
			{Kind: report.TimeLE0 + 47, Subject: 2, V: 2}, // le=0.5
			{Kind: report.LastRanAge, Subject: 3, V: 10},
			{Kind: report.Consumers, V: 3},
		}}
}

// scrape returns what a scrape asking with accept gets, after checking
// that expfmt's parser reads it.
func scrape(t *testing.T, s *Sink, accept string) string {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", accept)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, body)
	}
	if !strings.HasPrefix(accept, "application/openmetrics-text") {
		if _, err := textParser().TextToMetricFamilies(strings.NewReader(body)); err != nil {
			t.Fatalf("the text format does not parse: %v\n%s", err, body)
		}
	}
	return body
}

// TestCounters: headcounts accumulate over publishes into counters, per
// consumer, a repeated name is its own series, a name that is not UTF-8
// is a valid label, and a hub's garbage never makes a counter go back.
func TestCounters(t *testing.T) {
	s := New(func() time.Time { return t0.Add(12 * time.Second) })
	s.Write(report.Update{Snapshots: []report.Batch{snap(t0, 3)}})
	s.Write(report.Update{Snapshots: []report.Batch{snap(t0.Add(5*time.Second), 4)}})
	s.Write(report.Update{Snapshots: []report.Batch{snap(t0.Add(10*time.Second), -50)}})
	s.Write(report.Update{Snapshots: []report.Batch{snap(t0.Add(10*time.Second), math.NaN())}})
	out := scrape(t, s, "text/plain")
	for _, want := range []string{
		"# TYPE fedmsg_consumer_messages_in_total counter\n" +
			`fedmsg_consumer_messages_in_total{service="fedmsg-hub",consumer="A"} 7` + "\n" +
			`fedmsg_consumer_messages_in_total{service="fedmsg-hub",consumer="A_2"} 400` + "\n" +
			`fedmsg_consumer_messages_in_total{service="fedmsg-hub",consumer="B\"` + "\uFFFD" + `"} 0` + "\n",
		`fedmsg_consumer_processing_seconds_bucket{service="fedmsg-hub",consumer="B\"` + "\uFFFD" + `",le="0.05"} 4` + "\n",
		`fedmsg_consumer_processing_seconds_bucket{service="fedmsg-hub",consumer="B\"` + "\uFFFD" + `",le="+Inf"} 8` + "\n" +
			`fedmsg_consumer_processing_seconds_sum{service="fedmsg-hub",consumer="B\"` + "\uFFFD" + `"} 2` + "\n" +
			`fedmsg_consumer_processing_seconds_count{service="fedmsg-hub",consumer="B\"` + "\uFFFD" + `"} 8` + "\n",
		`fedmsg_producer_last_ran_timestamp_seconds{service="fedmsg-hub",producer="P"} 1.7962164e+09` + "\n",
		`fedmsg_hub_last_snapshot_age_seconds{service="fedmsg-hub"} 2` + "\n",
		`fedmsg_hub_publish_period_seconds{service="fedmsg-hub"} 5` + "\n",
		`fedmsg_hub_consumers{service="fedmsg-hub"} 3` + "\n",
		"# TYPE go_goroutines gauge\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks\n%s", want)
		}
	}
	// OpenMetrics: counters' families without _total, and # EOF.
	om := scrape(t, s, "application/openmetrics-text;version=1.0.0")
	if !strings.Contains(om, "# TYPE fedmsg_consumer_messages_in counter\n") || !strings.HasSuffix(om, "# EOF\n") {
		t.Errorf("OpenMetrics scrape:\n%s", om[max(0, len(om)-400):])
	}
}

// TestLiveness: hub_up follows the interval batches; a lost hub's
// values leave the exposition until it is back; a hub no longer watched
// (not a subject of the program's own batch) is dropped.
func TestLiveness(t *testing.T) {
	s := New(nil)
	s.Write(report.Update{Snapshots: []report.Batch{snap(t0, 1)}})
	if out := scrape(t, s, ""); strings.Contains(out, "fedmsg_hub_up") {
		t.Errorf("hub_up before any interval")
	}
	s.Write(report.Update{Tick: &report.Tick{Time: t0, Watched: []string{"fedmsg-hub"},
		Liveness: []report.Batch{{Service: "fedmsg-hub", Time: t0, Values: []report.Value{{Kind: report.HubUp, V: 0}}}}}})
	out := scrape(t, s, "")
	if !strings.Contains(out, `fedmsg_hub_up{service="fedmsg-hub"} 0`) || strings.Contains(out, `consumer="A"`) ||
		!strings.Contains(out, `fedmsg_hub_last_snapshot_age_seconds{service="fedmsg-hub"}`) {
		t.Errorf("a lost hub: hub_up 0 and its age, none of its last values (they are not current):\n%s", out)
	}
	s.Write(report.Update{Snapshots: []report.Batch{snap(t0.Add(5*time.Second), 1)}})
	out = scrape(t, s, "")
	if !strings.Contains(out, `fedmsg_hub_up{service="fedmsg-hub"} 0`) {
		t.Errorf("hub_up lost with a snapshot")
	}
	if !strings.Contains(out, `fedmsg_consumer_backlog{service="fedmsg-hub",consumer="A"} 7`) ||
		!strings.Contains(out, `fedmsg_consumer_messages_in_total{service="fedmsg-hub",consumer="A"} 2`) {
		t.Errorf("back: its values again, its counters going on:\n%s", out)
	}
	s.Write(report.Update{Tick: &report.Tick{Watched: []string{"other"}, Self: report.Batch{Service: report.SelfService, Subjects: []string{"other"},
		Values: []report.Value{{Kind: report.Snapshots, Subject: 0, V: 9}, {Kind: report.LatencyP99, V: 0.001}}}}})
	out = scrape(t, s, "")
	if strings.Contains(out, `service="fedmsg-hub"`) {
		t.Errorf("a forgotten hub still has series")
	}
	if !strings.Contains(out, `fedmsg_exporter_snapshots_total{service="other"} 9`) || !strings.Contains(out, "fedmsg_exporter_latency_p99_seconds 0.001\n") {
		t.Errorf("the exporter's own values:\n%s", out)
	}
	if !model.LegacyValidation.IsValidMetricName("fedmsg_consumer_backlog_growth_messages_per_second") {
		t.Error("a family name is not valid")
	}
}

func textParser() *expfmt.TextParser {
	p := expfmt.NewTextParser(model.LegacyValidation)
	return &p
}

// TestFamiliesCoverCatalogue fails when a kind of the catalogue is neither
// exposed nor left out on purpose.
func TestFamiliesCoverCatalogue(t *testing.T) {
	for _, k := range report.Kinds() {
		if exposedOf(k) == notExposed[k] {
			t.Errorf("kind %v: exposed %v, left out on purpose %v", k, exposedOf(k), notExposed[k])
		}
	}
}

// TestSparseBuckets: only the bounds of buckets that counted a time are
// exposed, both of each: 3 times in (0.04, 0.05] and 1 in (0.25, 0.315].
func TestSparseBuckets(t *testing.T) {
	s := New(func() time.Time { return t0 })
	b := report.Batch{Service: "fedmsg-hub", Time: t0, Interval: 5 * time.Second, Subjects: []string{"C"},
		Values: []report.Value{{Kind: report.TimeCount, V: 4}, {Kind: report.TimeSum, V: 0.45}}}
	for i, le := range report.TimeBounds() {
		switch le {
		case 0.05:
			b.Values = append(b.Values, report.Value{Kind: report.TimeLE0 + report.Kind(i), V: 3})
		case 0.315:
			b.Values = append(b.Values, report.Value{Kind: report.TimeLE0 + report.Kind(i), V: 1})
		}
	}
	s.Write(report.Update{Snapshots: []report.Batch{b}})
	var got []string
	for _, l := range strings.Split(scrape(t, s, "text/plain"), "\n") {
		if strings.HasPrefix(l, "fedmsg_consumer_processing_seconds_bucket") {
			got = append(got, l[strings.Index(l, "le="):])
		}
	}
	want := []string{`le="0.04"} 0`, `le="0.05"} 3`, `le="0.25"} 3`, `le="0.315"} 4`, `le="+Inf"} 4`}
	if !slices.Equal(got, want) {
		t.Errorf("buckets %q, want %q", got, want)
	}
}

// TestQueueInfo: a broker's queues with a type have an info series
// labelled with it; those without, and hubs, have none.
func TestQueueInfo(t *testing.T) {
	s := New(func() time.Time { return t0 })
	b := report.Batch{Service: "mq-default", Time: t0, Interval: 10 * time.Second,
		Subjects: []string{"fmn", "audit", "old"}, Consumers: 3, Types: []string{"quorum", "stream", ""},
		Values: []report.Value{{Kind: report.Backlog, Subject: 0, V: 4}}}
	s.Write(report.Update{Snapshots: []report.Batch{b, snap(t0, 1)}})
	body := scrape(t, s, "text/plain")
	for _, want := range []string{
		"# TYPE fedmsg_consumer_queue_info gauge\n",
		`fedmsg_consumer_queue_info{service="mq-default",consumer="fmn",type="quorum"} 1` + "\n",
		`fedmsg_consumer_queue_info{service="mq-default",consumer="audit",type="stream"} 1` + "\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("no %q in\n%s", want, body)
		}
	}
	if n := strings.Count(body, "fedmsg_consumer_queue_info{"); n != 2 {
		t.Errorf("%d info series, want 2", n)
	}
}
