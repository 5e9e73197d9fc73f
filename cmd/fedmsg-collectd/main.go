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
	"runtime"
	"syscall"
)

func main() {
	os.Exit(mainStatus())
}

// mainStatus runs the command of the command line and returns its exit
// status, once its deferred clean-up is done.
func mainStatus() int {
	if subcommand(os.Args[1:]) == nil {
		if os.Getenv("GOMAXPROCS") == "" {
			// A snapshot takes a fraction of a millisecond, so one thread
			// running Go code is plenty, and spares the wake-ups and
			// hand-offs between threads, which cost more than the work (a
			// sixth of the CPU time with 10 hubs; see the README's
			// performance section). GOMAXPROCS in the environment
			// overrides it.
			runtime.GOMAXPROCS(1)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return run(ctx, os.Args[1:], os.Stdout, os.Stderr)
}
