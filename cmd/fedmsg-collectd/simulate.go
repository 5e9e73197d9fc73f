package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/fedora-infra/fedmsg-collectd/internal/sim"
)

// simConfig describes a simulated hub.
type simConfig struct {
	bind     string
	profiles []sim.Profile
	period   time.Duration // simulated publish period
	speed    float64       // simulated seconds per wall-clock second
	seed     uint64
	mode     os.FileMode // of an ipc socket file; 0 leaves it
	phase    time.Duration
}

// simFlags registers the flags shared by simulate and demo.
func simFlags(fs *flag.FlagSet, c *simConfig, speed float64) (profiles *string) {
	profiles = fs.String("profile", "all", "comma-separated built-in profiles: "+profileHelp())
	fs.DurationVar(&c.period, "period", 5*time.Second, "simulated publish period (moksha's is 5s)")
	fs.Float64Var(&c.speed, "speed", speed, "simulated seconds per real second: 10 publishes every 0.5s and\nbrings the first bursts within 10s")
	fs.Uint64Var(&c.seed, "seed", 1, "random seed: the same seed gives the same hub")
	return profiles
}

func profileHelp() string {
	ps, _ := sim.Lookup("all")
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "\n  %s: %s", p.Name, p.Description)
	}
	return b.String()
}

func (c *simConfig) check(profiles string) error {
	var err error
	if c.profiles, err = sim.Lookup(profiles); err != nil {
		return fmt.Errorf("--profile: %w", err)
	}
	if c.period < 100*time.Millisecond {
		return errors.New("--period must be at least 100ms")
	}
	if c.speed <= 0 || c.speed > 1000 || c.period.Seconds()/c.speed < 0.005 {
		return errors.New("--speed must be positive and leave at least 5ms between publishes")
	}
	return nil
}

// simulate is the simulate command.
func simulate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fedmsg-collectd simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		c     simConfig
		binds namesFlag
		n     int
	)
	fs.Var(&binds, "bind", "ZeroMQ `ENDPOINT` to publish on, ipc://PATH or tcp://HOST:PORT (required;\nrepeat it for several hubs, each its own simulation)")
	mode := fs.String("mode", "", "octal permissions of an ipc socket file, like moksha.monitoring.socket.mode")
	fs.IntVar(&n, "consumers", 0, "give each hub this many consumers, the profiles' models in turn (for load tests)")
	profiles := simFlags(fs, &c, 1)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: fedmsg-collectd simulate --bind ENDPOINT [flags]\n\n"+
			"Publishes the monitoring messages of a simulated moksha hub on a real ZeroMQ\n"+
			"PUB socket, one every period, until interrupted. Each consumer is a queue:\n"+
			"random arrivals, a backlog, workers with random processing times, failures.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageError(stderr, err)
	}
	err := c.check(*profiles)
	if err == nil && len(binds) == 0 {
		err = errors.New("--bind is required")
	}
	if err == nil && n > 0 {
		c.profiles = []sim.Profile{sim.Scale(c.profiles, n)}
	}
	if err == nil && *mode != "" {
		m, perr := strconv.ParseUint(*mode, 8, 32)
		if perr != nil || m > 0o777 {
			err = fmt.Errorf("--mode %q: want octal permissions such as 770", *mode)
		}
		c.mode = os.FileMode(m)
	}
	if err != nil {
		return usageError(stderr, err)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	names := make([]string, len(c.profiles))
	for i, p := range c.profiles {
		names[i] = p.Name
	}
	log.Info("simulated hubs", "bind", strings.Join(binds, " "), "profiles", strings.Join(names, ","), "period", c.period, "speed", c.speed)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(binds))
	for i, b := range binds {
		hc := c
		hc.bind, hc.seed = b, c.seed+uint64(i)*1000
		// Hubs started at different times publish at different moments.
		hc.phase = time.Duration(float64(c.period) / c.speed * float64(i) / float64(len(binds)))
		go func() { errs <- publishSimulated(ctx, hc) }()
	}
	code := exitOK
	for range binds {
		if err := <-errs; err != nil {
			log.Error("simulated hub stopped", "err", err)
			code = exitError
			cancel()
		}
	}
	return code
}

// publishSimulated binds a PUB socket and publishes the simulated hub's
// messages until ctx ends.
func publishSimulated(ctx context.Context, c simConfig) error {
	if path, ok := strings.CutPrefix(c.bind, "ipc://"); ok {
		removeStaleSocket(path)
	}
	pub := zmq4.NewPub(ctx, zmq4.WithLogger(log.New(io.Discard, "", 0)))
	defer pub.Close()
	if err := pub.Listen(c.bind); err != nil {
		return fmt.Errorf("bind %s: %w", c.bind, err)
	}
	if path, ok := strings.CutPrefix(c.bind, "ipc://"); ok && c.mode != 0 {
		if err := os.Chmod(path, c.mode); err != nil {
			return fmt.Errorf("--mode: %w", err)
		}
	}
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(c.phase):
	}
	hub := sim.NewHub(c.profiles, c.seed, sim.WallEpoch(time.Now(), c.speed))
	// Like moksha, the first message comes one period after the start.
	tick := time.NewTicker(time.Duration(float64(c.period) / c.speed))
	defer tick.Stop()
	simNow := 0.0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		simNow += c.period.Seconds()
		if err := pub.Send(zmq4.NewMsg(hub.Publish(simNow))); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
	}
}

// removeStaleSocket removes an ipc socket file that nothing listens on, as
// libzmq replaces one when it binds.
func removeStaleSocket(path string) {
	if _, err := os.Stat(path); err != nil {
		return
	}
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return
	}
	os.Remove(path)
}
