package promexp

import (
	"bufio"
	"compress/flate"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// gatherer is client_golang's registry of the exporter's own standard
// collectors: Go runtime, process and build information.
type gatherer struct {
	reg       *prometheus.Registry
	limit     chan struct{}      // scrapes served at a time
	limitGzip chan struct{}      // of them gzipped
	gzips     chan *flate.Writer // the compressors not in use, kept
	logger    *slog.Logger
}

// maxScrapes is how many scrapes are served at a time; more get 503
// rather than piling up.
const maxScrapes = 16

// maxGzips is how many of them are gzipped at a time: a compressor holds
// 1.2 MB, so a crowd of scrapers would otherwise add 19 MB at once. The
// others are answered plain, which a client that accepts gzip accepts
// too.
const maxGzips = 2

func newGatherer() gatherer {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector())
	return gatherer{reg: reg, limit: make(chan struct{}, maxScrapes), limitGzip: make(chan struct{}, maxGzips), gzips: make(chan *flate.Writer, maxGzips), logger: slog.New(slog.DiscardHandler)}
}

// gzipper returns a gzip stream onto w when fewer than maxGzips are in
// use, with the function that ends it and gives its compressor back; or
// nil.
func (g gatherer) gzipper(w io.Writer) (*splicer, func()) {
	select {
	case g.limitGzip <- struct{}{}:
	default:
		return nil, nil
	}
	fw := g.compressor()
	z := newSplicer(w, fw)
	return z, func() {
		z.Close()
		g.giveBack(fw)
		<-g.limitGzip
	}
}

// compressor returns a compressor kept, or a new one.
func (g gatherer) compressor() *flate.Writer {
	select {
	case fw := <-g.gzips:
		return fw
	default:
		fw, _ := flate.NewWriter(io.Discard, flate.BestSpeed)
		return fw
	}
}

// giveBack keeps a compressor for the next, up to maxGzips of them.
func (g gatherer) giveBack(fw *flate.Writer) {
	fw.Reset(io.Discard)
	select {
	case g.gzips <- fw:
	default:
	}
}

// ServeHTTP serves a scrape: the Prometheus text format, or OpenMetrics
// when the scraper asks for it (expfmt's negotiation), gzipped when it
// accepts that and fewer than maxGzips others are.
func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	select {
	case s.gather.limit <- struct{}{}:
		defer func() { <-s.gather.limit }()
	default:
		http.Error(w, "too many scrapes at once", http.StatusServiceUnavailable)
		return
	}
	format := expfmt.NegotiateIncludingOpenMetrics(r.Header)
	om := format.FormatType() == expfmt.TypeOpenMetrics
	if !om {
		format = expfmt.NewFormat(expfmt.TypeTextPlain)
	}
	w.Header().Set("Content-Type", string(format))
	var out io.Writer = w
	var z *splicer
	if acceptsGzip(r) {
		if gz, done := s.gather.gzipper(w); gz != nil {
			w.Header().Set("Content-Encoding", "gzip")
			s.gzipScraped()
			defer done()
			out, z = gz, gz
		}
	}
	if r.Method == http.MethodHead {
		return
	}
	bw := buffers.Get().(*bufio.Writer)
	bw.Reset(out)
	defer func() {
		bw.Flush()
		bw.Reset(nil)
		buffers.Put(bw)
	}()
	mfs, err := s.gather.reg.Gather()
	if err != nil {
		s.gather.logger.Warn("gathering the exporter's own metrics", "err", err)
	}
	enc := expfmt.NewEncoder(bw, format)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return // the client went away
		}
	}
	s.writeHubs(bw, om, z)
	if c, ok := enc.(expfmt.Closer); ok {
		c.Close() // OpenMetrics: # EOF
	}
}

// buffers are the scrapes' buffers, kept: 64 KiB at every scrape was a
// third of what one allocated, and of the collections it made the
// exporter's single thread run in the middle of scrapes.
var buffers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		if strings.TrimSpace(strings.SplitN(part, ";", 2)[0]) == "gzip" {
			return true
		}
	}
	return false
}

// writeHubs writes every family: its HELP and TYPE, then the series of
// each hub in the order of their services, and the exporter's own. With
// z, the buffer w writes into it, and the hubs' segments are spliced in.
func (s *Sink) writeHubs(w *bufio.Writer, om bool, z *splicer) {
	s.mu.Lock()
	services := make([]string, 0, len(s.hubs))
	for sv := range s.hubs {
		services = append(services, sv)
	}
	hubs := make([]*hubState, 0, len(s.hubs))
	slices.Sort(services)
	for _, sv := range services {
		hubs = append(hubs, s.hubs[sv])
	}
	self := s.self
	s.mu.Unlock()
	now := s.now()
	l := lines{w: w, num: make([]byte, 0, 256)}
	for f := range numFamilies {
		fam := families[f]
		n := 0
		for _, h := range hubs {
			switch f {
			case famUp:
				if !math.IsNaN(h.up) {
					n++
				}
			case famAge:
				if !h.at.IsZero() {
					n++
				}
			case famProcessing:
				n += len(h.hists)
			default:
				n += len(h.series[f])
			}
		}
		if self != nil {
			n += len(self[f])
		}
		if n == 0 {
			continue
		}
		name := fam.name
		if fam.typ == "counter" && !om {
			name += "_total"
		}
		w.WriteString("# HELP " + name + " " + fam.help + "\n# TYPE " + name + " " + fam.typ + "\n")
		for _, h := range hubs {
			if z != nil && spliced(f) && h.packed {
				w.Flush()
				z.splice(h.gz[f])
			} else {
				l.hub(h, f, now)
			}
		}
		if self != nil {
			w.Write(self[f])
		}
	}
}

// leLabels are the buckets' le labels.
var leLabels = func() []string {
	out := make([]string, report.NumBounds)
	for i, le := range report.TimeBounds() {
		out[i] = `,le="` + strconv.FormatFloat(le, 'g', -1, 64) + `"`
	}
	return out
}()

// Handler serves the sink's metrics on path, a landing page on /, and
// nothing else.
func Handler(s *Sink, path, version string, log *slog.Logger) (http.Handler, error) {
	s.gather.logger = log
	mux := http.NewServeMux()
	mux.Handle(path, s)
	if path != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "fedmsg-collectd exporter",
			Description: "Queue health of fedmsg / moksha hubs: backlogs, rates, waits, drain times",
			Version:     version,
			Links:       []web.LandingLinks{{Address: path, Text: "Metrics"}},
			Profiling:   "false", // no /debug/pprof served: no links to it
		})
		if err != nil {
			return nil, err
		}
		mux.Handle("/", landing)
	}
	return mux, nil
}

// Server returns the HTTP server of h, with the timeouts that keep a slow
// or stalled client from holding a connection: 5 s for the request
// headers (at most 16 KiB), 10 s for the request, 30 s for the answer.
func Server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
}
