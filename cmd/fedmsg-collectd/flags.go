package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/analytics"
	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
	"github.com/fedora-infra/fedmsg-collectd/internal/pipeline"
	"github.com/fedora-infra/fedmsg-collectd/internal/sink/putval"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/counters"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/hubmon"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/rabbitmq"
)

const usageHead = `fedmsg-collectd: collectd Exec plugin for fedmsg / moksha hub monitoring sockets.

Usage:
  fedmsg-collectd [run] [flags]    run as collectd's Exec program (the default)
  fedmsg-collectd demo [flags]     run on a built-in simulated hub: a live table, or
                                   what collectd would receive
  fedmsg-collectd simulate [flags] publish a simulated hub's monitoring messages
  fedmsg-collectd exporter [flags] a Prometheus exporter of the same values
  fedmsg-collectd netdata [N] [flags]
                                   a Netdata external plugin, updating every N s
  fedmsg-collectd check [flags]    a Nagios plugin: check one snapshot against thresholds
  fedmsg-collectd capture [flags]  record a hub's messages with their arrival times
  fedmsg-collectd replay [flags] FILE|-
                                   print what the plugin writes for recorded or
                                   plain snapshots
  fedmsg-collectd help             show this text
  fedmsg-collectd version          print the version

"fedmsg-collectd COMMAND -h" explains the flags of each command.

collectd starts the plugin once and reads PUTVAL lines from its stdout for
as long as it runs. Each hub's monitoring socket is read by its own
subscriber; a hub that is not running yet is waited for quietly.
Diagnostics go to stderr, which collectd logs as errors: they are rare.

Without --endpoint, the sockets DIR/monitoring-SERVICE.socket are
discovered and rescanned, so hubs that appear later are picked up; a hub
whose socket goes away is reported lost until --forget-after.

Flags of run:
`

// errVersion is what parse returns for --version.
var errVersion = errors.New("version asked for")

// config is what the command line asks for: flag values only; the
// sources are built from it once, by build.
type config struct {
	hubs      hubmon.Flags
	brokers   rabbitmq.Config
	stages    counters.Config
	host      string
	logLevel  slog.Level
	interval  time.Duration
	smoothing time.Duration
	capture   string
}

// sourceKind is a kind of polled source: it registers its own flags, and
// builds its sources from them.
type sourceKind interface {
	Register(fs *flag.FlagSet)
	Build(log *slog.Logger) ([]pipeline.Source, error)
}

// polled lists the kinds of polled source, in the order they are built:
// a new kind is one more entry.
func (c *config) polled() []sourceKind {
	return []sourceKind{&c.brokers, &c.stages}
}

// build builds the sources c asks for, once: the polled ones, and the
// hubs (discovered in --socket-dir unless --endpoint names them, or
// --socket-dir is empty). Its errors are the command line's.
func build(c *config, log *slog.Logger) (pipeline.Source, error) {
	var srcs []pipeline.Source
	for _, k := range c.polled() {
		s, err := k.Build(log)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, s...)
	}
	if hubs := c.hubs.Build(log); hubs != nil {
		srcs = append([]pipeline.Source{hubs}, srcs...)
	}
	if len(srcs) == 0 {
		return nil, errors.New("nothing to watch: --socket-dir is empty, and no --endpoint, --rabbitmq, --rabbitmq-prometheus or --counters is given")
	}
	return pipeline.Sources(srcs...), nil
}

// parse reads the command line of the run command. getenv supplies
// COLLECTD_HOSTNAME; hostname is the fallback for the host field.
func parse(args []string, out io.Writer, getenv func(string) string, hostname func() (string, error)) (config, error) {
	if len(args) > 0 {
		switch args[0] {
		case "run":
			args = args[1:]
		case "help":
			args = []string{"-help"}
		case "version":
			return config{}, errVersion
		default:
			if !strings.HasPrefix(args[0], "-") {
				return config{}, fmt.Errorf("unknown command %q (\"fedmsg-collectd help\" lists them)", args[0])
			}
		}
	}
	fs := flag.NewFlagSet("fedmsg-collectd", flag.ContinueOnError)
	var c config
	check := sourceFlags(fs, &c)
	fs.StringVar(&c.host, "hostname", "", "host field of the identifiers (default $COLLECTD_HOSTNAME, else this machine's name)")
	fs.DurationVar(&c.interval, "interval", 0, "how often to write hub liveness and the plugin's own counters\n(default $COLLECTD_INTERVAL, else 10s)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHead)
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, out); err != nil {
		return config{}, err
	}
	if *showVersion {
		return config{}, errVersion
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := check(); err != nil {
		return config{}, err
	}
	if c.interval == 0 {
		c.interval = 10 * time.Second
		if f, err := strconv.ParseFloat(getenv("COLLECTD_INTERVAL"), 64); err == nil && f >= 0.1 && f <= 86400 {
			c.interval = time.Duration(f * float64(time.Second))
		}
	}
	if c.interval < 100*time.Millisecond {
		return config{}, errors.New("--interval must be at least 100ms")
	}
	var err error
	if c.host, err = putval.HostOf(c.host, getenv, hostname); err != nil {
		return config{}, err
	}
	return c, nil
}

// sourceFlags registers the flags that choose and watch sources, shared by
// run, exporter and netdata, and returns the check of their values; call
// it after parsing.
func sourceFlags(fs *flag.FlagSet, c *config) func() error {
	c.hubs.Register(fs)
	for _, k := range c.polled() {
		k.Register(fs)
	}
	level := fs.String("log-level", "warn", "stderr log level: error, warn, info or debug")
	fs.DurationVar(&c.smoothing, "smoothing", analytics.DefaultSmoothing, "time constant of the exponential smoothing behind the wait, rate\nand drain-time values")
	fs.StringVar(&c.capture, "capture", "", "also record every message taken in, with its arrival time, as JSON\nlines in `FILE` (for bug reports: \"fedmsg-collectd replay FILE\" prints\nthe same values again)")
	return func() error {
		if err := c.logLevel.UnmarshalText([]byte(*level)); err != nil {
			return fmt.Errorf("--log-level: %w", err)
		}
		if c.smoothing < time.Second {
			return errors.New("--smoothing must be at least 1s")
		}
		return c.hubs.Check()
	}
}
