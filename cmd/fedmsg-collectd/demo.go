package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/term"

	"github.com/fedora-infra/fedmsg-collectd/internal/analytics"
	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/pipeline"
	"github.com/fedora-infra/fedmsg-collectd/internal/sim"
	"github.com/fedora-infra/fedmsg-collectd/internal/sink/putval"
	"github.com/fedora-infra/fedmsg-collectd/internal/sink/top"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/counters"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/hubmon"
)

// demo runs a simulated hub and the plugin against it in one process.
func demo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlags("demo", "Usage: fedmsg-collectd demo [flags]\n\n"+
		"Runs a simulated hub (service fedmsg-hub) and the plugin against it, in one\n"+
		"process. On a terminal it shows a table per consumer, redrawn as each\n"+
		"snapshot arrives; otherwise, or with --putval, it prints the PUTVAL lines\n"+
		"collectd would receive. At the default speed the hashing and notifications\n"+
		"backlogs burst within 10 seconds. Everything is measured in the hub's time:\n"+
		"at --speed N a second of output is N seconds of the hub's, so rates,\n"+
		"waits and utilisation read as they would at normal speed.\n")
	var (
		sc       sim.Publisher
		host     string
		duration time.Duration
		stream   bool
		stages   bool
	)
	var sf sim.Flags
	sf.Register(fs, &sc, 10)
	fs.StringVar(&host, "hostname", "", "host field of the identifiers (default $COLLECTD_HOSTNAME, else this machine's name)")
	fs.DurationVar(&duration, "duration", 0, "stop after this long (default: until interrupted)")
	fs.BoolVar(&stream, "putval", false, "print PUTVAL lines even on a terminal")
	fs.BoolVar(&stages, "counters", false, "instead of a hub, a service counting the events of each stage of a\npipeline, read by the counters source (service pipeline)")
	if err := cli.Parse(fs, args, stdout); err != nil {
		return cli.UsageError(stderr, "demo", err)
	}
	err := sf.Check(&sc)
	if err == nil {
		host, err = putval.HostOf(host, os.Getenv, os.Hostname)
	}
	if err != nil {
		return cli.UsageError(stderr, "demo", err)
	}
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}
	if f, ok := stdout.(*os.File); ok && !stream && term.IsTerminal(int(f.Fd())) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		defer top.StopKeys(os.Stdin, cancel)()
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := runDemo(ctx, sc, stages, host, demoSink(stdout, stream, sc.Speed), log); err != nil {
		log.Error("demo stopped", "err", err)
		return cli.ExitError
	}
	return cli.ExitOK
}

// demoSink is the terminal table on a terminal, else the collectd sink.
func demoSink(stdout io.Writer, stream bool, speed float64) func(host string, epoch time.Time) pipeline.Sink {
	return func(host string, epoch time.Time) pipeline.Sink {
		if f, ok := stdout.(*os.File); ok && !stream && term.IsTerminal(int(f.Fd())) {
			fmt.Fprint(stdout, "\x1b[2J")
			t := top.New(stdout, fmt.Sprintf("fedmsg-collectd demo: a hub simulated at %gx, in its time; q or Ctrl-C stops", speed))
			t.Epoch = epoch
			return t
		}
		return putval.NewSink(stdout, host)
	}
}

// runDemo runs the simulation (a hub, or with stages a stage-counting
// service) and the pipeline on its clock until ctx ends.
func runDemo(ctx context.Context, sc sim.Publisher, stages bool, host string, sinkFor func(string, time.Time) pipeline.Sink, log *slog.Logger) error {
	dir, err := os.MkdirTemp("", "fedmsg-collectd-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sc.Bind = "ipc://" + filepath.Join(dir, "monitoring-fedmsg-hub.socket")
	// One clock for the hub and the plugin: hub time.
	clock := &pipeline.Clock{Epoch: time.Now(), Speed: sc.Speed}
	epoch := float64(clock.Epoch.UnixNano()) / 1e9
	sc.Stamp = func(s float64) float64 { return epoch + s }
	c := config{host: host, interval: 10 * time.Second, smoothing: analytics.DefaultSmoothing,
		hubs: hubmon.Flags{Rescan: time.Minute, Forget: time.Hour, IdlePeriods: 3, MaxMessage: hubmon.DefaultMaxMessage,
			Endpoints: []model.Endpoint{{Service: "fedmsg-hub", Addr: sc.Bind}}}}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	simDone := make(chan error, 1)
	if stages {
		url, stop, err := sim.ServeStages(ctx, sc.Speed, sc.Seed, simDone)
		if err != nil {
			return err
		}
		defer stop()
		c.hubs.Endpoints = nil
		c.stages = counters.Config{URLs: []string{"pipeline=" + url},
			Interval: max(time.Duration(float64(5*time.Second)/sc.Speed), 100*time.Millisecond)}
	} else {
		go func() { simDone <- sc.Run(ctx) }()
	}
	src, err := build(&c, log)
	if err == nil {
		err = servePipeline(ctx, c, src, sinkFor(host, clock.Epoch), clock, log)
	}
	cancel()
	if simErr := <-simDone; simErr != nil && err == nil {
		err = simErr
	}
	return err
}
