package promexp

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// fleet returns a sink holding hubs hubs of 50 consumers with every value
// a snapshot with analytics and processing times has, the times spread
// over a decade; packed for gzipped scrapes or not.
func fleet(hubs int, packed bool) *Sink {
	s := New(nil)
	if packed {
		s.gzipScraped()
	}
	kinds := []report.Kind{report.Backlog, report.Exceptions, report.HeadcountIn, report.HeadcountOut,
		report.ArrivalRate, report.ServiceRate, report.Wait, report.ExpectedWait, report.DrainTime,
		report.P50, report.P95, report.P99, report.Utilization, report.TimeCount, report.TimeSum}
	var tick report.Tick
	for h := range hubs {
		b := report.Batch{Service: fmt.Sprintf("hub%03d", h), Time: time.Unix(1796216400, 0), Interval: 5 * time.Second}
		for c := range 50 {
			b.Subjects = append(b.Subjects, fmt.Sprintf("Consumer%02d", c))
			for _, k := range kinds {
				b.Values = append(b.Values, report.Value{Kind: k, Subject: c, V: 12.345})
			}
			// Times spread over a decade, 8 buckets: 9 bounds exposed.
			for i := 30; i < 38; i++ {
				b.Values = append(b.Values, report.Value{Kind: report.TimeLE0 + report.Kind(i), Subject: c, V: 1})
			}
		}
		s.Write(report.Update{Snapshots: []report.Batch{b}})
		tick.Watched = append(tick.Watched, b.Service)
		tick.Liveness = append(tick.Liveness, report.Batch{Service: b.Service, Values: []report.Value{{Kind: report.HubUp, V: 1}}})
	}
	s.Write(report.Update{Tick: &tick})
	return s
}

type discard struct{ h http.Header }

func (d discard) Header() http.Header         { return d.h }
func (d discard) Write(p []byte) (int, error) { return len(p), nil }
func (d discard) WriteHeader(int)             {}

// BenchmarkScrape is the exporter's own cost of a scrape of 100 hubs of
// 50 consumers, without the network: plain, gzipped from hubs packed (as
// when scrapes come as due), and gzipped from hubs not packed.
func BenchmarkScrape(b *testing.B) {
	for _, enc := range []string{"plain", "gzip", "gzip, not packed"} {
		s := fleet(100, enc == "gzip")
		b.Run(enc, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/metrics", nil)
			if enc != "plain" {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			for b.Loop() {
				s.ServeHTTP(discard{http.Header{}}, req)
			}
		})
	}
}

// BenchmarkTake is the cost of taking in one hub's snapshot of 50
// consumers, paid whether or not anyone scrapes (and BenchmarkPack's
// besides for the snapshots a gzipped scrape reads).
func BenchmarkTake(b *testing.B) {
	s := fleet(1, false)
	kinds := []report.Kind{report.Backlog, report.HeadcountIn, report.ExpectedWait, report.TimeCount}
	batch := report.Batch{Service: "hub000", Time: time.Unix(1796216400, 0), Interval: 5 * time.Second}
	for c := range 50 {
		batch.Subjects = append(batch.Subjects, fmt.Sprintf("Consumer%02d", c))
		for _, k := range kinds {
			batch.Values = append(batch.Values, report.Value{Kind: k, Subject: c, V: 1})
		}
	}
	for b.Loop() {
		s.Write(report.Update{Snapshots: []report.Batch{batch}})
	}
}

// BenchmarkPack: what packing a hub of 50 consumers costs, at each
// snapshot a gzipped scrape will read (splice.go).
func BenchmarkPack(b *testing.B) {
	s := fleet(1, false)
	var h *hubState
	for _, x := range s.hubs {
		h = x
	}
	var p packer
	fw := s.gather.compressor()
	for b.Loop() {
		p.pack(h, fw)
	}
}
