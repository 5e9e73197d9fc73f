package promexp

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
)

// Serve serves h on every address of listen, with exporter-toolkit's web
// configuration (TLS, basic authentication) from webConfig, and collect
// beside it, until ctx ends or either stops; then the server is shut down
// (5 s at most). It returns the first error, nil for an ordinary stop.
func Serve(ctx context.Context, listen []string, webConfig string, h http.Handler, log *slog.Logger, collect func(context.Context) error) error {
	var ls []net.Listener
	for _, a := range listen {
		l, err := net.Listen("tcp", a)
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return err
		}
		ls = append(ls, l)
	}
	srv := Server(h)
	served := make(chan error, 1)
	go func() {
		served <- web.ServeMultiple(ls, srv, &web.FlagConfig{WebListenAddresses: &listen, WebConfigFile: &webConfig}, log)
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	collected := make(chan error, 1)
	go func() { collected <- collect(ctx) }()
	var err error
	select {
	case err = <-served:
	case err = <-collected:
	}
	cancel()
	shut, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	srv.Shutdown(shut)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
