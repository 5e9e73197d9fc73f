package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/analytics"
	"github.com/fedora-infra/fedmsg-collectd/internal/hubmon"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/putval"
	"github.com/fedora-infra/fedmsg-collectd/internal/sim"
)

// demo runs a simulated hub and the plugin against it in one process.
func demo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("demo", "Usage: fedmsg-collectd demo [flags]\n\n"+
		"Runs a simulated hub (service fedmsg-hub) and the plugin against it, in one\n"+
		"process, printing the PUTVAL lines collectd would receive. At the default\n"+
		"speed the hashing and notifications backlogs burst within 10 seconds.\n"+
		"The plugin measures on the wall clock: at --speed N, rates are N times\n"+
		"and durations 1/N of the hub's own.\n")
	var (
		sc       sim.Publisher
		host     string
		duration time.Duration
	)
	profiles := simFlags(fs, &sc, 10)
	fs.StringVar(&host, "hostname", "", "host field of the identifiers (default $COLLECTD_HOSTNAME, else this machine's name)")
	fs.DurationVar(&duration, "duration", 0, "stop after this long (default: until interrupted)")
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
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	simDone := make(chan error, 1)
	go func() { simDone <- sc.Run(ctx) }()
	c := config{
		endpoints:   []model.Endpoint{{Service: "fedmsg-hub", Addr: sc.Bind}},
		rescan:      time.Minute,
		host:        host,
		idlePeriods: 3,
		interval:    10 * time.Second,
		maxMessage:  hubmon.DefaultMaxMessage,
		// The plugin measures time on the wall clock: smooth over the
		// same stretch of hub time as it would at normal speed.
		smoothing: max(time.Duration(float64(analytics.DefaultSmoothing)/sc.Speed), time.Second),
	}
	err = serve(ctx, c, stdout, log)
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
