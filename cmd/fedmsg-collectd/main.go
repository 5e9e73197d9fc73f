// Command fedmsg-collectd is a collectd Exec plugin for fedmsg / moksha hubs.
// collectd starts it once; it subscribes to each hub's ZeroMQ monitoring
// socket and writes the per-consumer and per-producer statistics the hubs
// publish as PUTVAL lines on stdout, under the identifiers of the older
// per-daemon Python script, so existing graphs and thresholds keep working.
//
// Run "fedmsg-collectd --help" for the flags.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
