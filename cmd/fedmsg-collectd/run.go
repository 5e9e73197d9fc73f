package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/fedora-infra/fedmsg-collectd/internal/capture"
	"github.com/fedora-infra/fedmsg-collectd/internal/check"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/pipeline"
	"github.com/fedora-infra/fedmsg-collectd/internal/putval"
)

// Exit codes of the plugin.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
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
		"demo": demo, "simulate": simulate, "exporter": exporterCmd, "netdata": netdataCmd, "capture": captureCmd, "replay": replay, "check": checkCmd,
	}[args[0]]
}

// newFlags returns the flag set of a command whose usage is head, then
// "Flags:" and the flags.
func newFlags(name, head string) *flag.FlagSet {
	fs := flag.NewFlagSet("fedmsg-collectd "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), head+"\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args with fs. Asked for help, it prints the usage to
// help (stdout) and returns flag.ErrHelp; a bad flag is only an error, for
// usageError to report in one line: collectd logs every stderr line, and
// restarts a plugin that exits, every interval.
func parseFlags(fs *flag.FlagSet, args []string, help io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(help)
		fs.Usage()
	}
	return err
}

// usageError reports a bad command line of command name ("" for run):
// help is exit 0, anything else one line and exit 2.
func usageError(stderr io.Writer, name string, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if name != "" {
		name += " "
	}
	fmt.Fprintf(stderr, "fedmsg-collectd: %v (run \"fedmsg-collectd %s-h\")\n", err, name)
	return exitUsage
}

// runPlugin is the plugin as collectd's Exec program.
func runPlugin(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parse(args, stdout, os.Getenv, os.Hostname)
	if errors.Is(err, errVersion) {
		fmt.Fprintln(stdout, version())
		return exitOK
	}
	if err != nil {
		return usageError(stderr, "", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: c.logLevel}))
	// A reader that went away must give us EPIPE to report, not kill us
	// silently with SIGPIPE.
	signal.Ignore(syscall.SIGPIPE)
	src, err := build(&c, log)
	if err != nil {
		return usageError(stderr, "", err)
	}
	if err := servePipeline(ctx, c, src, putval.NewSink(stdout, c.host), nil, log); err != nil {
		log.Error("stopping", "err", err)
		return exitError
	}
	return exitOK
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

// namesFlag is a repeatable flag of strings.
type namesFlag []string

func (n *namesFlag) String() string { return strings.Join(*n, ",") }

func (n *namesFlag) Set(s string) error {
	if s == "" {
		return errors.New("empty name")
	}
	*n = append(*n, s)
	return nil
}
