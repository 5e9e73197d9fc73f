package demo

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/analytics"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/pipeline"
	"github.com/fedora-infra/fedmsg-collectd/internal/sim"
	"github.com/fedora-infra/fedmsg-collectd/internal/source"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/counters"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/hubmon"
)

// interval is how often the demo's pipeline ticks, in hub time.
const interval = 10 * time.Second

// Live runs the simulation (a hub publishing on a real ZeroMQ socket, or
// with stages a stage-counting service behind a loopback HTTP server), the
// program's own source for it and the pipeline on the simulation's clock,
// until ctx ends. sinkFor makes the sink, given the hub's epoch.
func Live(ctx context.Context, sc sim.Publisher, stages bool, sinkFor func(epoch time.Time) pipeline.Sink, log *slog.Logger) error {
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
	srcs := source.Flags{Hubs: hubmon.Flags{Rescan: time.Minute, Forget: time.Hour, IdlePeriods: 3, MaxMessage: hubmon.DefaultMaxMessage,
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
		srcs.Hubs.Endpoints = nil
		srcs.Stages = counters.Config{URLs: []string{"pipeline=" + url},
			Interval: max(time.Duration(float64(5*time.Second)/sc.Speed), 100*time.Millisecond)}
	} else {
		go func() { simDone <- sc.Run(ctx) }()
	}
	src, err := srcs.Build(log)
	if err == nil {
		cfg := pipeline.Config{Interval: clock.Stretch(interval), IdlePeriods: 3, Smoothing: analytics.DefaultSmoothing, Logger: log,
			Tick: clock.Ticks(ctx, interval), Now: clock.Now}
		go pipeline.ReleaseMemory(ctx, cfg.Interval)
		err = pipeline.Run(ctx, cfg, clock.Source(src), sinkFor(clock.Epoch))
	}
	cancel()
	if simErr := <-simDone; simErr != nil && err == nil {
		err = simErr
	}
	return err
}
