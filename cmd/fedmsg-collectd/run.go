package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
	"github.com/fedora-infra/fedmsg-collectd/internal/sink/putval"
)

// collectdWatcher is the run command: the plugin as collectd's Exec
// program, PUTVAL lines on stdout.
func collectdWatcher() *watcher {
	return &watcher{
		overview:     true,
		head:         putval.Usage,
		intervalHelp: "how often to write hub liveness and the plugin's own counters\n(default $COLLECTD_INTERVAL, else 10s)",
		flags: func(fs *flag.FlagSet, c *config, io ios) func(*slog.Logger) (served, error) {
			fs.StringVar(&c.host, "hostname", "", "host field of the identifiers (default $COLLECTD_HOSTNAME, else this machine's name)")
			showVersion := fs.Bool("version", false, "print the version and exit")
			return func(log *slog.Logger) (served, error) {
				if *showVersion {
					fmt.Fprintln(io.stdout, cli.Version())
					return served{done: true}, nil
				}
				c.interval = putval.Interval(c.interval, io.getenv)
				var err error
				if c.host, err = putval.HostOf(c.host, io.getenv, io.hostname); err != nil {
					return served{}, err
				}
				if f, ok := io.stdout.(*os.File); ok {
					if _, err := putval.WidenPipe(f); err != nil {
						log.Info("stdout's pipe keeps its buffer", "err", err)
					}
				}
				return served{sink: putval.NewSink(io.stdout, c.host)}, nil
			}
		},
	}
}
