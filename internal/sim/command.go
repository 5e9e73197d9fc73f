package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
)

// Command is the simulate command: it publishes simulated hubs until ctx
// ends, and returns the exit code.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlags("simulate", "Usage: fedmsg-collectd simulate --bind ENDPOINT [flags]\n\n"+
		"Publishes the monitoring messages of a simulated moksha hub on a real ZeroMQ\n"+
		"PUB socket, one every period, until interrupted. Each consumer is a queue:\n"+
		"random arrivals, a backlog, workers with random processing times, failures.\n")
	var (
		c     Publisher
		binds cli.Strings
		n     int
	)
	fs.Var(&binds, "bind", "ZeroMQ `ENDPOINT` to publish on, ipc://PATH or tcp://HOST:PORT (required;\nrepeat it for several hubs, each its own simulation)")
	mode := fs.String("mode", "", "octal permissions of an ipc socket file, like moksha.monitoring.socket.mode")
	fs.StringVar(&c.Group, "group", "", "`GROUP` (name or number) of an ipc socket file, as the hub's own group;\nthe socket's directory is made (mode 755) when missing")
	fs.IntVar(&n, "consumers", 0, "give each hub this many consumers, the profiles' models in turn (for load tests)")
	var sf Flags
	sf.Register(fs, &c, 1)
	if err := cli.Parse(fs, args, stdout); err != nil {
		return cli.UsageError(stderr, "simulate", err)
	}
	err := sf.Check(&c)
	if err == nil && len(binds) == 0 {
		err = errors.New("--bind is required")
	}
	if err == nil && n > 0 {
		c.Profiles = []Profile{Scale(c.Profiles, n)}
	}
	if err == nil && *mode != "" {
		m, perr := strconv.ParseUint(*mode, 8, 32)
		if perr != nil || m > 0o777 {
			err = fmt.Errorf("--mode %q: want octal permissions such as 770", *mode)
		}
		c.Mode = os.FileMode(m)
	}
	if err != nil {
		return cli.UsageError(stderr, "simulate", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	names := make([]string, len(c.Profiles))
	for i, p := range c.Profiles {
		names[i] = p.Name
	}
	log.Info("simulated hubs", "bind", strings.Join(binds, " "), "profiles", strings.Join(names, ","), "period", c.Period, "speed", c.Speed)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(binds))
	for i, b := range binds {
		hc := c
		hc.Bind, hc.Seed = b, c.Seed+uint64(i)*1000
		// Hubs started at different times publish at different moments.
		hc.Phase = time.Duration(float64(c.Period) / c.Speed * float64(i) / float64(len(binds)))
		go func() { errs <- hc.Run(ctx) }()
	}
	code := cli.ExitOK
	for range binds {
		if err := <-errs; err != nil {
			log.Error("simulated hub stopped", "err", err)
			code = cli.ExitError
			cancel()
		}
	}
	return code
}
