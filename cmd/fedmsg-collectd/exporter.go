//go:build !noexporter

package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
	"github.com/fedora-infra/fedmsg-collectd/internal/sink/promexp"
)

// exporterCommand serves the values to Prometheus.
func exporterCommand() command {
	return command{name: "exporter", args: "[flags]", summary: "a Prometheus exporter of the same values", watch: &watcher{
		head: promexp.Usage, interval: 10 * time.Second, intervalHelp: "how often hub liveness is checked",
		flags: func(fs *flag.FlagSet, c *config, _ ios) func(*slog.Logger) (served, error) {
			var pf promexp.Flags
			pf.Register(fs)
			return func(log *slog.Logger) (served, error) {
				if err := pf.Check(); err != nil {
					return served{}, err
				}
				sink := promexp.New(nil)
				h, err := promexp.Handler(sink, pf.Path, cli.Version(), log)
				if err != nil {
					return served{}, fmt.Errorf("landing page: %w", err)
				}
				return served{sink: sink, around: func(ctx context.Context, pipe func(context.Context) error) error {
					return promexp.Serve(ctx, []string(pf.Listen), pf.WebConfig, h, log, pipe)
				}}, nil
			}
		},
	}}
}
