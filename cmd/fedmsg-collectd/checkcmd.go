package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/fedora-infra/fedmsg-collectd/internal/sink/check"
	"github.com/fedora-infra/fedmsg-collectd/internal/source"
)

// checkCmd is the check command, a monitoring plugin: the sources chosen
// with run's flags, built by the same registry, and the check's own
// thresholds. Its answer, errors included, is the plugin output on
// stdout; its exit code is the state.
func checkCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fedmsg-collectd check", flag.ContinueOnError)
	// A monitoring system reads the first line: errors come back as the
	// UNKNOWN status line, and only -h prints the usage.
	fs.SetOutput(io.Discard)
	var (
		c  config
		cf check.Flags
	)
	checkSources := sourceFlags(fs, &c)
	cf.Register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, check.Usage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return int(check.OK)
		}
		return int(check.Failed(stdout, err))
	}
	err := checkSources()
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var one source.One
	if err == nil {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: c.logLevel}))
		one, err = c.sources.One(func(name string) bool { return set[name] }, cf.Timeout, log)
	}
	var spec check.Spec
	if err == nil {
		spec, err = cf.Spec(len(c.sources.Brokers.URLs)+len(c.sources.Brokers.PromURLs) > 0)
	}
	if err != nil {
		return int(check.Failed(stdout, err))
	}
	t := check.Target{Source: one.Source, Service: one.Service, Endpoint: one.Endpoint, Polled: one.Polled}
	hist := check.OpenHistory(cf.StateDir, one.Endpoint, one.Service, spec.Consumers)
	res := check.ProbeWith(ctx, t, cf.Timeout, spec, hist)
	res.Write(stdout)
	return int(res.Status)
}
