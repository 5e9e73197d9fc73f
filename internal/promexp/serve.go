package promexp

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"
)

// Registry returns a registry with the sink and the exporter's own
// standard collectors: Go runtime, process and build information.
func Registry(s *Sink) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(s, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector())
	return reg
}

// Handler serves reg's metrics on path (OpenMetrics when the scraper asks
// for it), a landing page on /, and nothing else. At most 16 scrapes are
// served at a time; more get 503 rather than piling up.
func Handler(reg *prometheus.Registry, path, version string, log *slog.Logger) (http.Handler, error) {
	mux := http.NewServeMux()
	mux.Handle(path, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 16,
		Timeout:             10 * time.Second,
		EnableOpenMetrics:   true,
	}))
	if path != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "fedmsg-collectd exporter",
			Description: "Queue health of fedmsg / moksha hubs: backlogs, rates, waits, drain times",
			Version:     version,
			Links:       []web.LandingLinks{{Address: path, Text: "Metrics"}},
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
