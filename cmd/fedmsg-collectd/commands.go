package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/capture"
	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
	"github.com/fedora-infra/fedmsg-collectd/internal/demo"
	"github.com/fedora-infra/fedmsg-collectd/internal/pipeline"
	"github.com/fedora-infra/fedmsg-collectd/internal/sim"
)

// command is one entry of the table of commands: help, usage errors and
// dispatch all come from the table.
type command struct {
	name    string
	args    string // what follows the name in the help
	summary string // what it does, in the help
	// main runs a command of its own; watch is a command that watches the
	// sources into one sink (one of the two).
	main  func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	watch *watcher
}

// commands is the table, in the order help lists it.
func commands() []command {
	return []command{
		{name: "run", args: "[flags]", summary: "run as collectd's Exec program (the default)", watch: collectdWatcher()},
		{name: "demo", args: "[flags]", summary: "run on a built-in simulated hub: a live table, or\nwhat collectd would receive", main: demo.Command},
		{name: "simulate", args: "[flags]", summary: "publish a simulated hub's monitoring messages", main: sim.Command},
		exporterCommand(),
		{name: "netdata", args: "[N] [flags]", summary: "a Netdata external plugin, updating every N s", watch: netdataWatcher()},
		{name: "zabbix", args: "[flags]", summary: "push the same values to a Zabbix server, or serve them\nto its agent (or print a template)", watch: zabbixWatcher()},
		{name: "check", args: "[flags]", summary: "a Nagios plugin: check a source's newest snapshots\nagainst thresholds", main: checkCmd},
		{name: "capture", args: "[flags]", summary: "record a hub's messages with their arrival times", main: capture.CaptureCommand},
		{name: "replay", args: "[flags] FILE|-", summary: "print what the plugin writes for recorded or\nplain snapshots", main: capture.ReplayCommand},
		{name: "help", summary: "show this text", main: help},
		{name: "version", summary: "print the version", main: version},
	}
}

// lookup is the command that args[0] names: run when args is empty or
// starts with a flag; nil for an unknown name.
func lookup(args []string) (*command, []string) {
	cmds := commands()
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return &cmds[0], args
	}
	for i := range cmds {
		if cmds[i].name == args[0] {
			return &cmds[i], args[1:]
		}
	}
	return nil, args
}

// overview is the head of the help: what the program is and its commands.
func overview() string {
	var b strings.Builder
	b.WriteString("fedmsg-collectd: how long messages wait, and when backlogs drain, in fedmsg /\n" +
		"moksha hubs, RabbitMQ queues and services' stage counters; written for\n" +
		"collectd (its Exec plugin, the default), Nagios, Prometheus, Netdata and Zabbix.\n\nUsage:\n")
	for _, c := range commands() {
		use := "  fedmsg-collectd " + c.name
		if c.name == "run" {
			use = "  fedmsg-collectd [run]"
		}
		if c.args != "" {
			use += " " + c.args
		}
		cli.ListCommand(&b, use, c.summary)
	}
	b.WriteString("\n\"fedmsg-collectd COMMAND -h\" explains the flags of each command.\n\n")
	return b.String()
}

func help(ctx context.Context, _ []string, stdout, stderr io.Writer) int {
	run := commands()[0]
	return watch(ctx, &run, []string{"-help"}, stdout, stderr)
}

func version(_ context.Context, _ []string, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, cli.Version())
	return cli.ExitOK
}

// watcher is a command that watches the sources, as run does, into one
// sink: its usage, its --interval, and its own flags.
type watcher struct {
	head string // the usage, before the flags
	// overview: the head follows the program's overview (run's help is
	// the program's).
	overview bool
	// interval is --interval's default and help; no flag when help is
	// empty (the command sets it).
	interval     time.Duration
	intervalHelp string
	// lead takes what comes before the flags (netdata's UPDATE_EVERY).
	lead func(args []string, c *config) ([]string, error)
	// flags registers the command's own flags; what it returns, called
	// once the flags are parsed and the sources' checked, says how to
	// serve the sink, or why the command line is wrong.
	flags func(fs *flag.FlagSet, c *config, io ios) func(log *slog.Logger) (served, error)
}

// ios are a command's streams and its look at the environment.
type ios struct {
	stdout   io.Writer
	getenv   func(string) string
	hostname func() (string, error)
}

// served is a command's sink and how it is served.
type served struct {
	sink pipeline.Sink
	// around, if set, runs the pipeline (pipe) inside what the command
	// serves beside it (an HTTP listener, a sender).
	around func(ctx context.Context, pipe func(context.Context) error) error
	// done: the command did its work already (zabbix --template).
	done bool
}
