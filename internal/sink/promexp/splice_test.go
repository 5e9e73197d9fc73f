package promexp

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// hubsText is a scrape's answer from its first family of ours on (or
// its end): the Go runtime's series before it change from one scrape to
// the next.
func hubsText(body string) string {
	if i := strings.Index(body, "# HELP fedmsg_"); i >= 0 {
		return body[i:]
	}
	return body[len(body):]
}

// scrapeGzip returns what a scrape asking with accept and for gzip gets,
// decompressed, after checking that it was gzipped and that the
// decompressor finds its CRC and length right.
func scrapeGzip(t *testing.T, s *Sink, accept string) string {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", accept)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("status %d, Content-Encoding %q", rec.Code, rec.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr) // anything after the stream would be read as another
	if err != nil {
		t.Fatalf("decompressing: %v", err)
	}
	return string(plain)
}

// TestSplicedScrape: a gzipped scrape, spliced from the hubs' segments and
// what the scrape compresses itself, decompresses to the plain scrape's
// text byte for byte, in both formats; through hubs that come, change,
// are lost, come back and go, the exporter's own values, and compressors
// reused from one scrape to the next.
func TestSplicedScrape(t *testing.T) {
	now := t0.Add(3 * time.Second)
	s := New(func() time.Time { return now })
	compare := func(step string) {
		t.Helper()
		for _, accept := range []string{"text/plain", "application/openmetrics-text; version=1.0.0"} {
			plain := hubsText(scrape(t, s, accept))
			zipped := scrapeGzip(t, s, accept)
			if !strings.HasPrefix(accept, "application/openmetrics-text") {
				if _, err := textParser().TextToMetricFamilies(strings.NewReader(zipped)); err != nil {
					t.Fatalf("%s: the gzipped text does not parse: %v", step, err)
				}
			}
			if zipped := hubsText(zipped); zipped != plain || plain == "" && step != "no hub" {
				t.Errorf("%s, %s: gzipped and plain differ:\n%s\n---\n%s", step, accept, zipped, plain)
			}
		}
	}
	// A hub taken in before any gzipped scrape is not packed: the first
	// is compressed whole, the hubs packed after it beside it.
	s.Write(report.Update{Snapshots: []report.Batch{snap(t0, 1)}})
	compare("a hub not packed")
	queues := report.Batch{Service: "mq-default", Time: t0, Interval: 10 * time.Second,
		Subjects: []string{"fmn", "audit", "old"}, Consumers: 3, Types: []string{"quorum", "stream", ""},
		Values: []report.Value{{Kind: report.Backlog, Subject: 0, V: 4}, {Kind: report.ExpectedWait, Subject: 1, V: 0.25}}}
	big := report.Batch{Service: "big", Time: t0, Interval: 5 * time.Second}
	for c := range 300 {
		big.Subjects = append(big.Subjects, fmt.Sprintf("Consumer%d", c))
		big.Values = append(big.Values, report.Value{Kind: report.Backlog, Subject: c, V: float64(c * c)},
			report.Value{Kind: report.HeadcountIn, Subject: c, V: float64(c)},
			report.Value{Kind: report.TimeCount, Subject: c, V: 3}, report.Value{Kind: report.TimeSum, Subject: c, V: 0.1 * float64(c)},
			report.Value{Kind: report.TimeLE0 + report.Kind(30+c%10), Subject: c, V: 3})
	}
	s.Write(report.Update{Snapshots: []report.Batch{queues, big}})
	if s.hubs["fedmsg-hub"].packed || !s.hubs["big"].packed {
		t.Fatal("packed before the first gzipped scrape, or not after it")
	}
	compare("one hub not packed, two packed")
	s.Write(report.Update{Snapshots: []report.Batch{snap(t0, 1)}})
	compare("three hubs")
	s.Write(report.Update{Tick: &report.Tick{Time: t0, Watched: []string{"fedmsg-hub", "mq-default", "big"},
		Liveness: []report.Batch{
			{Service: "fedmsg-hub", Values: []report.Value{{Kind: report.HubUp, V: 1}}},
			{Service: "big", Values: []report.Value{{Kind: report.HubUp, V: 0}}}},
		Self: report.Batch{Service: report.SelfService, Subjects: []string{"fedmsg-hub", "big"},
			Values: []report.Value{{Kind: report.Snapshots, Subject: 0, V: 9}, {Kind: report.Snapshots, Subject: 1, V: 4}, {Kind: report.LatencyP99, V: 0.001}}}}})
	compare("one lost, the exporter's own")
	now = now.Add(7 * time.Second)
	s.Write(report.Update{Snapshots: []report.Batch{snap(t0.Add(5*time.Second), 30), big}})
	compare("changed, the lost one back")
	s.Write(report.Update{Tick: &report.Tick{Time: t0, Watched: []string{"big"}}})
	compare("two gone")
	s.Write(report.Update{Tick: &report.Tick{Time: t0}})
	compare("no hub")
}

// TestPackWanted: hubs are packed while gzipped scrapes come, for the
// snapshot a scrape will read: the next scrape due (the latest's start
// plus the time since the one before) before the hub's next snapshot.
func TestPackWanted(t *testing.T) {
	var now time.Time
	s := New(func() time.Time { return now })
	at := func(sec float64) { now = t0.Add(time.Duration(sec * float64(time.Second))) }
	const period = 5 * time.Second
	at(0)
	if s.packWanted(period) {
		t.Error("packed with no gzipped scrape")
	}
	s.gzipScraped()
	at(15)
	s.gzipScraped() // every 15 s: the next due at 30
	for _, tt := range []struct {
		at     float64
		period time.Duration
		want   bool
	}{
		{16, period, false}, // a newer snapshot comes first
		{23.5, period, false},
		{24.5, period, true}, // within the period and a second
		{29, period, true},
		{31, period, true}, // overdue
		{16, 0, true},      // period not known yet
		{16, 20 * time.Second, true},
		{15 + 601, period, false}, // no gzipped scrape for 10 minutes
	} {
		at(tt.at)
		if got := s.packWanted(tt.period); got != tt.want {
			t.Errorf("at %.1f s, period %v: %v, want %v", tt.at, tt.period, got, tt.want)
		}
	}
}
