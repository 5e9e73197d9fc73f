package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/fedora-infra/fedmsg-collectd/internal/capture"
	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/pipeline"
	"github.com/fedora-infra/fedmsg-collectd/internal/sim"
	"github.com/fedora-infra/fedmsg-collectd/internal/sink/check"
	"github.com/fedora-infra/fedmsg-collectd/internal/sink/putval"
)

// run is the whole program: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if f := subcommand(args); f != nil {
		return f(ctx, args[1:], stdout, stderr)
	}
	return runPlugin(ctx, args, stdout, stderr)
}

// subcommand returns the command that args[0] names, or nil for the plugin
// itself.
func subcommand(args []string) func(context.Context, []string, io.Writer, io.Writer) int {
	if len(args) == 0 {
		return nil
	}
	return map[string]func(context.Context, []string, io.Writer, io.Writer) int{
		"demo": demo, "simulate": sim.Command, "exporter": exporterCmd, "netdata": netdataCmd, "capture": capture.CaptureCommand, "replay": capture.ReplayCommand, "check": checkCmd, "zabbix": zabbixCmd,
	}[args[0]]
}

// runPlugin is the plugin as collectd's Exec program.
func runPlugin(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parse(args, stdout, os.Getenv, os.Hostname)
	if errors.Is(err, errVersion) {
		fmt.Fprintln(stdout, cli.Version())
		return cli.ExitOK
	}
	if err != nil {
		return cli.UsageError(stderr, "", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: c.logLevel}))
	// A reader that went away must give us EPIPE to report, not kill us
	// silently with SIGPIPE.
	signal.Ignore(syscall.SIGPIPE)
	src, err := build(&c, log)
	if err != nil {
		return cli.UsageError(stderr, "", err)
	}
	if err := servePipeline(ctx, c, src, putval.NewSink(stdout, c.host), nil, log); err != nil {
		log.Error("stopping", "err", err)
		return cli.ExitError
	}
	return cli.ExitOK
}

// servePipeline runs src through the pipeline into sink; with a clock, on
// its time (the demo's hub time).
func servePipeline(ctx context.Context, c config, src pipeline.Source, sink pipeline.Sink, clock *pipeline.Clock, log *slog.Logger) error {
	cfg := pipeline.Config{Interval: c.interval, IdlePeriods: c.hubs.IdlePeriods, Smoothing: c.smoothing, Logger: log}
	if clock != nil {
		cfg.Tick = clock.Ticks(ctx, c.interval)
		cfg.Interval = clock.Stretch(c.interval)
		cfg.Now = clock.Now
		src = clock.Source(src)
	}
	if c.capture != "" {
		f, err := os.OpenFile(c.capture, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("--capture: %w", err)
		}
		defer f.Close()
		cw := capture.NewWriter(f)
		cfg.OnMessage = func(m model.Message) {
			if m.Snapshot != nil {
				return // a polled source: no message to record
			}
			if err := cw.Add(m); err != nil {
				log.Warn("capture failed", "err", err)
			}
		}
	}
	go pipeline.ReleaseMemory(ctx, c.interval)
	if err := pipeline.Run(ctx, cfg, src, sink); err != nil {
		return fmt.Errorf("stdout: %w", err)
	}
	return nil
}

// checkCmd is the check command: a monitoring plugin (package check).
func checkCmd(ctx context.Context, args []string, stdout, _ io.Writer) int {
	return int(check.Command(ctx, args, stdout))
}
