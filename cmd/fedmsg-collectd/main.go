// Command fedmsg-collectd tells how long messages wait and when backlogs
// drain, in fedmsg / moksha hubs, RabbitMQ queues and services that count
// their stages. At heart it is a collectd Exec plugin: collectd starts it
// once; it subscribes to each hub's ZeroMQ monitoring socket and writes
// the per-consumer and per-producer statistics the hubs publish as PUTVAL
// lines on stdout, under the identifiers of the older per-daemon Python
// script, so existing graphs and thresholds keep working. Its other
// commands serve the same values to Nagios, Prometheus, Netdata, Zabbix
// and a terminal.
//
// Run "fedmsg-collectd help" for the commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
	"github.com/fedora-infra/fedmsg-collectd/internal/pipeline"
)

func main() {
	if os.Getenv("GOMAXPROCS") == "" {
		// One thread running Go code is plenty for a snapshot's fraction
		// of a millisecond, and spares hand-offs between threads that cost
		// more than the work (docs/performance.md); replay is faster too.
		runtime.GOMAXPROCS(1)
	}
	// SIGHUP too: collectd never sends it, but a shell that goes away
	// does, and a plugin has no configuration to reload.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go pipeline.TuneGC(ctx, 10*time.Second) // a large heap collected sooner
	args := os.Args[1:]
	if strings.HasSuffix(filepath.Base(os.Args[0]), ".plugin") {
		// Netdata runs plugins.d/NAME.plugin: a link to this binary so
		// named is the Netdata plugin.
		args = append([]string{"netdata"}, args...)
	}
	code := run(ctx, args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program: it runs the command args name (run, the
// plugin, by default) and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd, rest := lookup(args)
	switch {
	case cmd == nil:
		return cli.UsageError(stderr, "", fmt.Errorf("unknown command %q (\"fedmsg-collectd help\" lists them)", args[0]))
	case cmd.watch != nil:
		return watch(ctx, cmd, rest, stdout, stderr)
	}
	return cmd.main(ctx, rest, stdout, stderr)
}
