package zabbix

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"
)

// DefaultListen is where the agent mode serves its document by default:
// loopback, for the host's own agent (the exporter's port is 10077).
const DefaultListen = "127.0.0.1:10078"

// Handler serves the document on / to GET and HEAD, whole, with its
// length: the agent's web.page.get reads the answer as it comes, so it
// gets no chunks.
func Handler(d *Document) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "only GET and HEAD", http.StatusMethodNotAllowed)
			return
		}
		body := d.JSON()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method == http.MethodGet {
			w.Write(body)
		}
	})
}

// Serve listens on addr and serves d's document while pipe runs (it
// feeds d), until ctx ends or either fails.
func Serve(ctx context.Context, addr string, d *Document, log *slog.Logger, pipe func(context.Context) error) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           Handler(d),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    8 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	piped := make(chan error, 1)
	go func() { piped <- pipe(ctx) }()
	select {
	case err = <-served:
		cancel()
		<-piped
	case err = <-piped:
	}
	shut, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	srv.Shutdown(shut)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
