package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/analytics"
	"github.com/fedora-infra/fedmsg-collectd/internal/hubmon"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/pipeline"
	"github.com/fedora-infra/fedmsg-collectd/internal/putval"
	"github.com/fedora-infra/fedmsg-collectd/internal/sim"
	"github.com/fedora-infra/fedmsg-collectd/internal/top"
	"golang.org/x/term"
)

// demo runs a simulated hub and the plugin against it in one process.
func demo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("demo", "Usage: fedmsg-collectd demo [flags]\n\n"+
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
	profiles := simFlags(fs, &sc, 10)
	fs.StringVar(&host, "hostname", "", "host field of the identifiers (default $COLLECTD_HOSTNAME, else this machine's name)")
	fs.DurationVar(&duration, "duration", 0, "stop after this long (default: until interrupted)")
	fs.BoolVar(&stream, "putval", false, "print PUTVAL lines even on a terminal")
	fs.BoolVar(&stages, "counters", false, "instead of a hub, a service counting the events of each stage of a\npipeline, read by the counters source (service pipeline)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return usageError(stderr, "demo", err)
	}
	err := checkSim(&sc, *profiles)
	if err == nil {
		host, err = putval.HostOf(host, os.Getenv, os.Hostname)
	}
	if err != nil {
		return usageError(stderr, "demo", err)
	}
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}
	dir, err := os.MkdirTemp("", "fedmsg-collectd-demo-")
	if err != nil {
		fmt.Fprintf(stderr, "fedmsg-collectd: %v\n", err)
		return exitError
	}
	defer os.RemoveAll(dir)
	sc.Bind = "ipc://" + filepath.Join(dir, "monitoring-fedmsg-hub.socket")
	// One clock for the hub and the plugin: hub time.
	clock := &pipeline.Clock{Epoch: time.Now(), Speed: sc.Speed}
	epoch := float64(clock.Epoch.UnixNano()) / 1e9
	sc.Stamp = func(s float64) float64 { return epoch + s }
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	simDone := make(chan error, 1)
	var pipelineURL string
	if stages {
		// The stages' counters on a loopback HTTP server.
		st := sim.DemoStages(sc.Speed, sc.Seed)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintf(stderr, "fedmsg-collectd: %v\n", err)
			return exitError
		}
		srv := &http.Server{Handler: st, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		pipelineURL = "http://" + ln.Addr().String() + "/"
		go func() { st.Run(ctx.Done()); simDone <- nil }()
	} else {
		go func() { simDone <- sc.Run(ctx) }()
	}
	c := config{
		endpoints:   []model.Endpoint{{Service: "fedmsg-hub", Addr: sc.Bind}},
		rescan:      time.Minute,
		host:        host,
		idlePeriods: 3,
		interval:    10 * time.Second,
		maxMessage:  hubmon.DefaultMaxMessage,
		smoothing:   analytics.DefaultSmoothing,
	}
	if stages {
		c.endpoints = nil
		c.brokers.counters = namesFlag{"pipeline=" + pipelineURL}
		c.brokers.countersEvery = max(time.Duration(float64(5*time.Second)/sc.Speed), 100*time.Millisecond)
	}
	var sink pipeline.Sink = putval.NewSink(stdout, host)
	if f, ok := stdout.(*os.File); ok && !stream && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stdout, "\x1b[2J")
		t := top.New(stdout, fmt.Sprintf("fedmsg-collectd demo: a simulated hub at %gx, in hub time (rates per hub second); Ctrl-C stops", sc.Speed))
		t.Epoch = clock.Epoch
		sink = t
	}
	err = servePipeline(ctx, c, sink, clock, log)
	cancel()
	if simErr := <-simDone; simErr != nil && err == nil {
		err = simErr
	}
	if err != nil {
		log.Error("demo stopped", "err", err)
		return exitError
	}
	return exitOK
}
