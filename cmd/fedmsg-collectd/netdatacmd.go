package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
	"github.com/fedora-infra/fedmsg-collectd/internal/sink/netdata"
)

// netdataCmd is the Netdata external plugin: Netdata runs it with its
// update_every in seconds as the first argument, then the "command
// options" of its [plugin:fedmsg] section.
func netdataCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	updateEvery := 1
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 1 || n > 86400 {
			return cli.UsageError(stderr, "netdata", fmt.Errorf("update_every %q: want whole seconds from 1 to 86400", args[0]))
		}
		updateEvery, args = n, args[1:]
	}
	fs := cli.NewFlags("netdata", "Usage: fedmsg-collectd netdata [UPDATE_EVERY] [flags]\n\n"+
		"A Netdata external plugin (plugins.d protocol on stdout): watches the hubs\n"+
		"as run does and updates their charts every UPDATE_EVERY seconds (default 1),\n"+
		"the argument Netdata gives its plugins. Installed as\n"+
		"plugins.d/fedmsg.plugin, a link to this binary, it runs this command.\n")
	var c config
	check := sourceFlags(fs, &c)
	if err := cli.Parse(fs, args, stdout); err != nil {
		return cli.UsageError(stderr, "netdata", err)
	}
	if err := check(); err != nil {
		return cli.UsageError(stderr, "netdata", err)
	}
	if fs.NArg() > 0 {
		return cli.UsageError(stderr, "netdata", fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	c.interval = time.Duration(updateEvery) * time.Second
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: c.logLevel}))
	src, err := build(&c, log)
	if err != nil {
		return cli.UsageError(stderr, "netdata", err)
	}
	if err := servePipeline(ctx, c, src, netdata.New(stdout, updateEvery), nil, log); err != nil {
		log.Error("stopping", "err", err)
		return cli.ExitError
	}
	return cli.ExitOK
}
