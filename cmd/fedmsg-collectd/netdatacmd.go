package main

import (
	"flag"
	"log/slog"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/sink/netdata"
)

// netdataWatcher is the Netdata external plugin: Netdata runs it with its
// update_every in seconds as the first argument, then the "command
// options" of its [plugin:fedmsg] section.
func netdataWatcher() *watcher {
	updateEvery := 1
	return &watcher{
		head: netdata.Usage,
		lead: func(args []string, c *config) (rest []string, err error) {
			updateEvery, rest, err = netdata.UpdateEvery(args)
			c.interval = time.Duration(updateEvery) * time.Second
			return rest, err
		},
		flags: func(_ *flag.FlagSet, _ *config, io ios) func(*slog.Logger) (served, error) {
			return func(*slog.Logger) (served, error) {
				return served{sink: netdata.New(io.stdout, updateEvery)}, nil
			}
		},
	}
}
