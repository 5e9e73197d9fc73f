//go:build !noexporter

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/exporter-toolkit/web"

	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
	"github.com/fedora-infra/fedmsg-collectd/internal/pipeline"
	"github.com/fedora-infra/fedmsg-collectd/internal/sink/promexp"
)

// defaultListen is the exporter's port: the Prometheus wiki's allocations
// filled 9100-9999 in 2023; see the README.
const defaultListen = ":10077"

// exporterCmd serves the hubs' values to Prometheus.
func exporterCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlags("exporter", "Usage: fedmsg-collectd exporter [flags]\n\n"+
		"A Prometheus exporter: watches the hubs as run does (the same discovery,\n"+
		"reconnection, limits and liveness) and serves their values on\n"+
		"--web.telemetry-path, with a landing page on /.\n")
	var (
		c         config
		listen    cli.Strings
		webConfig string
		path      string
	)
	check := sourceFlags(fs, &c)
	fs.Var(&listen, "web.listen-address", "`ADDRESS` to listen on, repeatable (default "+defaultListen+")")
	fs.StringVar(&webConfig, "web.config.file", "", "exporter-toolkit web configuration `FILE`: TLS and basic authentication")
	fs.StringVar(&path, "web.telemetry-path", "/metrics", "`PATH` of the metrics")
	fs.DurationVar(&c.interval, "interval", 10*time.Second, "how often hub liveness is checked")
	if err := cli.Parse(fs, args, stdout); err != nil {
		return cli.UsageError(stderr, "exporter", err)
	}
	err := check()
	if err == nil && (c.interval < 100*time.Millisecond || len(path) == 0 || path[0] != '/') {
		err = errors.New("--interval must be at least 100ms and --web.telemetry-path start with /")
	}
	if err == nil && webConfig != "" {
		if verr := web.Validate(webConfig); verr != nil {
			err = fmt.Errorf("--web.config.file: %w", verr)
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: c.logLevel}))
	var src pipeline.Source
	if err == nil {
		src, err = build(&c, log)
	}
	if err != nil {
		return cli.UsageError(stderr, "exporter", err)
	}
	if len(listen) == 0 {
		listen = cli.Strings{defaultListen}
	}
	sink := promexp.New(nil)
	h, err := promexp.Handler(sink, path, cli.Version(), log)
	if err != nil {
		log.Error("landing page", "err", err)
		return cli.ExitError
	}
	err = promexp.Serve(ctx, []string(listen), webConfig, h, log, func(ctx context.Context) error {
		return servePipeline(ctx, c, src, sink, nil, log)
	})
	if err != nil {
		log.Error("stopping", "err", err)
		return cli.ExitError
	}
	return cli.ExitOK
}
