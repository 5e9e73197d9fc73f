// Package demo is the demo command: a simulated hub (package sim), or a
// simulated service counting its stages, read by the program's own
// sources and pipeline on the simulation's clock, shown as a live table on
// a terminal or as the PUTVAL lines collectd would receive. Virtual runs
// the same simulation without the wall clock, for tests and for a
// deterministic replay of what the demo shows.
package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
	"github.com/fedora-infra/fedmsg-collectd/internal/pipeline"
	"github.com/fedora-infra/fedmsg-collectd/internal/sim"
	"github.com/fedora-infra/fedmsg-collectd/internal/sink/putval"
	"github.com/fedora-infra/fedmsg-collectd/internal/sink/top"
)

// Command is the demo command: it runs a simulated hub and the program
// against it in one process, and returns the exit code.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
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
	onTerminal := false
	if f, ok := stdout.(*os.File); ok && !stream && term.IsTerminal(int(f.Fd())) {
		onTerminal = true
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		defer top.StopKeys(os.Stdin, cancel)()
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sinkFor := func(epoch time.Time) pipeline.Sink {
		if !onTerminal {
			return putval.NewSink(stdout, host)
		}
		fmt.Fprint(stdout, "\x1b[2J")
		t := top.New(stdout, fmt.Sprintf("fedmsg-collectd demo: a hub simulated at %gx, in its time; q or Ctrl-C stops", sc.Speed))
		t.Epoch = epoch
		return t
	}
	if err := Live(ctx, sc, stages, sinkFor, log); err != nil {
		log.Error("demo stopped", "err", err)
		return cli.ExitError
	}
	return cli.ExitOK
}
