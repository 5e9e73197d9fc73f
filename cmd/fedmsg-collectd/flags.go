package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/analytics"
	"github.com/fedora-infra/fedmsg-collectd/internal/hubmon"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/putval"
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

// version is the program's version: the module's, the commit it was built
// from and the Go release.
func version() string {
	v, rev, dirty := "(devel)", "", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision":
				rev = " " + s.Value
			case s.Key == "vcs.modified" && s.Value == "true":
				dirty = " (modified)"
			}
		}
	}
	return "fedmsg-collectd " + v + rev + dirty + " " + runtime.Version()
}

// config is what the command line asks for.
type config struct {
	endpoints   []model.Endpoint
	socketDir   string
	rescan      time.Duration
	forget      time.Duration
	host        string
	idlePeriods int
	logLevel    slog.Level
	interval    time.Duration
	maxMessage  int
	smoothing   time.Duration
	capture     string
	brokers     brokers
}

type endpointsFlag []model.Endpoint

func (e *endpointsFlag) String() string { return "" }

func (e *endpointsFlag) Set(s string) error {
	ep, err := parseEndpoint(s)
	if err != nil {
		return err
	}
	*e = append(*e, ep)
	return nil
}

// parseEndpoint parses an endpoint and checks that its service makes
// collectd identifiers.
func parseEndpoint(s string) (model.Endpoint, error) {
	ep, err := hubmon.ParseEndpoint(s)
	if err == nil {
		if err = model.CheckService(ep.Service); err != nil {
			err = fmt.Errorf("endpoint %q: %w", s, err)
		}
	}
	return ep, err
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
	var (
		c   config
		eps endpointsFlag
	)
	check := hubFlags(fs, &c, &eps)
	fs.StringVar(&c.host, "hostname", "", "host field of the identifiers (default $COLLECTD_HOSTNAME, else this machine's name)")
	fs.DurationVar(&c.interval, "interval", 0, "how often to write hub liveness and the plugin's own counters\n(default $COLLECTD_INTERVAL, else 10s)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHead)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, out); err != nil {
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

// parseSize reads a byte count with an optional KiB or MiB suffix.
func parseSize(s string) (int, error) {
	mult := 1
	for suffix, m := range map[string]int{"KiB": 1 << 10, "MiB": 1 << 20} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = n, m
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("size %q", s)
	}
	return n * mult, nil
}

// hubFlags registers the flags that choose and watch hubs, shared by run,
// exporter and netdata, and returns the check of their values, which
// fills c.endpoints; call it after parsing.
func hubFlags(fs *flag.FlagSet, c *config, eps *endpointsFlag) func() error {
	fs.Var(eps, "endpoint", "hub monitoring socket, `[SERVICE=]ENDPOINT`, repeatable. ENDPOINT is\n"+
		"ipc://PATH (ipc:////PATH too) or tcp://HOST:PORT. SERVICE (the plugin field\n"+
		"of the identifiers, e.g. fedmsg-hub) defaults to what the endpoint gives:\n"+
		"monitoring-SERVICE.socket gives SERVICE, another ipc file fedmsg-NAME,\n"+
		"tcp://HOST:PORT fedmsg-HOST_PORT (non-alphanumerics as _)")
	fs.StringVar(&c.socketDir, "socket-dir", hubmon.DefaultSocketDir, "where to discover `DIR`/monitoring-*.socket when no --endpoint is given")
	fs.DurationVar(&c.rescan, "rescan", 10*time.Second, "how often to rescan --socket-dir")
	fs.DurationVar(&c.forget, "forget-after", 24*time.Hour, "how long a hub whose socket went away from --socket-dir is still\nreported, lost (hub_up 0), before it is forgotten")
	fs.IntVar(&c.idlePeriods, "idle-periods", 3, "reconnect after this many publish periods without a message")
	level := fs.String("log-level", "warn", "stderr log level: error, warn, info or debug")
	fs.DurationVar(&c.smoothing, "smoothing", analytics.DefaultSmoothing, "time constant of the exponential smoothing behind the wait, rate\nand drain-time values")
	fs.StringVar(&c.capture, "capture", "", "also record every message received, with its arrival time, as JSON\nlines in `FILE` (for bug reports: \"fedmsg-collectd replay FILE\" prints\nthe same values again)")
	c.brokers.flags(fs)
	maxMessage := fs.String("max-message", "4MiB", "largest monitoring message accepted, in bytes (suffixes KiB, MiB);\na hub sending more is disconnected before the message is read")
	return func() error {
		var err error
		c.endpoints = *eps
		if err = c.logLevel.UnmarshalText([]byte(*level)); err != nil {
			return fmt.Errorf("--log-level: %w", err)
		}
		if c.rescan <= 0 {
			return errors.New("--rescan must be positive")
		}
		if c.forget <= 0 {
			return errors.New("--forget-after must be positive")
		}
		if c.smoothing < time.Second {
			return errors.New("--smoothing must be at least 1s")
		}
		if c.idlePeriods < 1 {
			return errors.New("--idle-periods must be at least 1")
		}
		if c.maxMessage, err = parseSize(*maxMessage); err != nil || c.maxMessage < 1024 {
			return fmt.Errorf("--max-message %q: want a size of at least 1KiB, such as 4MiB", *maxMessage)
		}
		if _, err := c.brokers.sources(nil); err != nil {
			return err
		}
		if _, err := c.brokers.counterSources(nil); err != nil {
			return err
		}
		seen := map[string]string{}
		for _, ep := range c.endpoints {
			if prev, dup := seen[ep.Service]; dup {
				return fmt.Errorf("service %s is given to both %s and %s: name them apart with SERVICE=", ep.Service, prev, ep.Addr)
			}
			seen[ep.Service] = ep.Addr
		}
		return nil
	}
}
