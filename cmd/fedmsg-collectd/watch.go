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
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/capture"
	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
	"github.com/fedora-infra/fedmsg-collectd/internal/pipeline"
)

// parseWatch reads a watching command's command line: the sources'
// flags, the pipeline's and the command's own. finish, called with the
// logger, says how to serve its sink.
func parseWatch(cmd *command, args []string, io ios) (c *config, finish func(*slog.Logger) (served, error), err error) {
	w := cmd.watch
	c = new(config)
	if w.lead != nil {
		if args, err = w.lead(args, c); err != nil {
			return c, nil, err
		}
	}
	head := w.head
	if w.overview {
		head = overview() + head
	}
	fs := cli.NewFlags(cmd.name, head)
	checkSources := sourceFlags(fs, c)
	checkPipeline := pipelineFlags(fs, c)
	if w.intervalHelp != "" {
		fs.DurationVar(&c.interval, "interval", w.interval, w.intervalHelp)
	}
	own := w.flags(fs, c, io)
	if err := cli.Parse(fs, args, io.stdout); err != nil {
		return c, nil, err
	}
	if fs.NArg() > 0 {
		return c, nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err = checkSources(); err == nil {
		err = checkPipeline()
	}
	return c, func(log *slog.Logger) (served, error) {
		s, err := own(log)
		if err == nil && !s.done && c.interval < 100*time.Millisecond {
			err = errors.New("--interval must be at least 100ms")
		}
		return s, err
	}, err
}

// watch is the sequence every watching command shares: flags, parse,
// logger, the command's own checks, the sources built, the pipeline
// served into the command's sink, and the exit code.
func watch(ctx context.Context, cmd *command, args []string, stdout, stderr io.Writer) int {
	name := cmd.name // as usage errors name it: "" for run
	if name == "run" {
		name = ""
	}
	c, finish, err := parseWatch(cmd, args, ios{stdout: stdout, getenv: os.Getenv, hostname: os.Hostname})
	if err != nil {
		return cli.UsageError(stderr, name, err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: c.logLevel}))
	s, err := finish(log)
	if s.done {
		if err != nil {
			log.Error("stopping", "err", err)
			return cli.ExitError
		}
		return cli.ExitOK
	}
	if err != nil {
		return cli.UsageError(stderr, name, err)
	}
	src, err := c.sources.Build(log)
	if err != nil {
		return cli.UsageError(stderr, name, err)
	}
	// A reader that went away must give us EPIPE to report, not kill us
	// silently with SIGPIPE.
	signal.Ignore(syscall.SIGPIPE)
	pipe := func(ctx context.Context) error { return servePipeline(ctx, *c, src, s.sink, log) }
	if s.around != nil {
		err = s.around(ctx, pipe)
	} else {
		err = pipe(ctx)
	}
	if err != nil {
		log.Error("stopping", "err", err)
		return cli.ExitError
	}
	return cli.ExitOK
}

// servePipeline runs src through the pipeline into sink, recording what
// it takes in when --capture says.
func servePipeline(ctx context.Context, c config, src pipeline.Source, sink pipeline.Sink, log *slog.Logger) error {
	cfg := pipeline.Config{Interval: c.interval, IdlePeriods: c.sources.Hubs.IdlePeriods, Smoothing: c.smoothing, Exclude: c.sources.Excluded(), Logger: log}
	if c.capture != "" {
		record, close, err := capture.Appender(c.capture, log)
		if err != nil {
			return err
		}
		defer close()
		cfg.OnMessage = record
	}
	go pipeline.ReleaseMemory(ctx, c.interval)
	if err := pipeline.Run(ctx, cfg, src, sink); err != nil {
		return fmt.Errorf("stdout: %w", err)
	}
	return nil
}
