package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/hubmon"
)

// CaptureCommand is the capture command: it records a hub's messages as
// JSON lines, and returns the exit code.
func CaptureCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlags("capture", "Usage: fedmsg-collectd capture --endpoint E [--count N] [--duration D] [-o FILE]\n\n"+
		"Records every monitoring message with its arrival time, service and\n"+
		"endpoint, one JSON object per line, until the count or duration is reached\n"+
		"or it is interrupted. \"fedmsg-collectd replay FILE\" prints the values\n"+
		"the plugin writes for them.\n")
	var (
		hubs     hubmon.Flags
		count    int
		duration time.Duration
		out      string
	)
	fs.Func("endpoint", "hub monitoring socket, `[SERVICE=]ENDPOINT`, repeatable (as for run)", hubs.AddEndpoint)
	fs.IntVar(&count, "count", 0, "stop after this many messages (0: no limit)")
	fs.DurationVar(&duration, "duration", 0, "stop after this long (0: no limit)")
	fs.StringVar(&out, "o", "-", "write to `FILE` (appending) instead of stdout")
	if err := cli.Parse(fs, args, stdout); err != nil {
		return cli.UsageError(stderr, "capture", err)
	}
	var err error
	switch {
	case len(hubs.Endpoints) == 0:
		err = errors.New("--endpoint is required")
	case count < 0 || duration < 0:
		err = errors.New("--count and --duration must not be negative")
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err != nil {
		return cli.UsageError(stderr, "capture", err)
	}
	w := stdout
	if out != "-" {
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(stderr, "fedmsg-collectd: %v\n", err)
			return cli.ExitError
		}
		defer f.Close()
		w = f
	}
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}
	// Messages that do not decode are recorded like the others: they are
	// what a capture is for, not a warning.
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	src := &hubmon.Supervisor{Options: hubmon.Options{Logger: log}, List: hubmon.Static(hubs.Endpoints), Rescan: time.Hour}
	if err := Run(ctx, src, NewWriter(w), count); err != nil {
		log.Error("capture stopped", "err", err)
		return cli.ExitError
	}
	return cli.ExitOK
}
