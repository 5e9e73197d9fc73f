package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/analytics"
	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/pipeline"
	"github.com/fedora-infra/fedmsg-collectd/internal/sink/putval"
)

// maxReplayErrors is how many bad lines replay reports one by one.
const maxReplayErrors = 10

// ReplayCommand is the replay command: it prints what the plugin writes
// for recorded or plain snapshots, and returns the exit code.
func ReplayCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlags("replay", "Usage: fedmsg-collectd replay [flags] FILE|-\n\n"+
		"Feeds messages through the plugin's own decode, derive and write path and\n"+
		"prints the PUTVAL lines it would send collectd. FILE (- for stdin) is a\n"+
		"capture (fedmsg-collectd capture, or run --capture), replayed with its\n"+
		"recorded times, services and periods, so the output is the same every\n"+
		"time; or snapshots exactly as a hub sends them, one JSON document per line\n"+
		"or one document in the file.\n")
	var (
		service   string
		period    time.Duration
		host      string
		smoothing time.Duration
	)
	fs.StringVar(&service, "service", "fedmsg-hub", "service of plain snapshots (recorded ones keep theirs)")
	fs.DurationVar(&period, "period", 5*time.Second, "time between plain snapshots; the first is stamped now")
	fs.StringVar(&host, "hostname", "", "host field of the identifiers (default $COLLECTD_HOSTNAME, else this machine's name)")
	fs.DurationVar(&smoothing, "smoothing", analytics.DefaultSmoothing, "as for run")
	if err := cli.Parse(fs, args, stdout); err != nil {
		return cli.UsageError(stderr, "replay", err)
	}
	var err error
	switch {
	case fs.NArg() != 1:
		err = errors.New("want one FILE, or - for stdin")
	case model.CheckService(service) != nil:
		err = fmt.Errorf("--service: %w", model.CheckService(service))
	case period <= 0:
		err = errors.New("--period must be positive")
	case smoothing < time.Second:
		err = errors.New("--smoothing must be at least 1s")
	}
	if err == nil {
		host, err = putval.HostOf(host, os.Getenv, os.Hostname)
	}
	if err != nil {
		return cli.UsageError(stderr, "replay", err)
	}
	in := io.Reader(os.Stdin)
	if fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			fmt.Fprintf(stderr, "fedmsg-collectd: %v\n", err)
			return cli.ExitError
		}
		defer f.Close()
		in = f
	}
	shown := 0
	total, bad, err := Replay(in, Defaults{Service: service, Start: time.Now(), Period: period}, smoothing, stdout,
		func(w io.Writer) pipeline.Sink { return putval.NewSink(w, host) },
		func(line int, err error) {
			if shown++; shown <= maxReplayErrors {
				fmt.Fprintf(stderr, "fedmsg-collectd: line %d: %v\n", line, err)
			}
		})
	if err != nil {
		fmt.Fprintf(stderr, "fedmsg-collectd: %v\n", err)
		return cli.ExitError
	}
	if bad > 0 {
		fmt.Fprintf(stderr, "fedmsg-collectd: %d of %d messages were not snapshots\n", bad, total)
		return cli.ExitError
	}
	return cli.ExitOK
}
