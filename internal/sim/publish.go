package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/fedora-infra/fedmsg-collectd/internal/source/hubmon"
)

// Publisher publishes a simulated hub's monitoring messages on a real
// ZeroMQ PUB socket, as moksha's MonitoringProducer does.
type Publisher struct {
	// Bind is the endpoint, ipc://PATH or tcp://HOST:PORT.
	Bind     string
	Profiles []Profile
	// Period is the simulated publish period; Speed the simulated seconds
	// per wall-clock second.
	Period time.Duration
	Speed  float64
	Seed   uint64
	// Mode, if not 0, is set on an ipc socket file.
	Mode os.FileMode
	// Group, if not empty, is the group (name or number) given to an ipc
	// socket file, as a hub running in that group would make it.
	Group string
	// Stamp maps simulated seconds to the epoch seconds the messages
	// carry; default WallEpoch of the start and Speed.
	Stamp func(float64) float64
	// Phase delays the start, so that hubs started together publish at
	// different moments.
	Phase time.Duration
}

// Check reports a period or speed the publisher cannot keep: a period
// under 100 ms, a speed outside (0, 1000], or less than 5 ms of wall
// clock between publishes.
func (p Publisher) Check() error {
	if p.Period < 100*time.Millisecond {
		return errors.New("period must be at least 100ms")
	}
	if p.Speed <= 0 || p.Speed > 1000 || p.Period.Seconds()/p.Speed < 0.005 {
		return errors.New("speed must be positive and leave at least 5ms between publishes")
	}
	return nil
}

// Run binds the socket and publishes until ctx ends. Like moksha, the
// first message comes one period after the start.
func (p Publisher) Run(ctx context.Context) error {
	network, path, err := hubmon.SplitAddr(p.Bind)
	if err != nil {
		return fmt.Errorf("bind %s: %w", p.Bind, err)
	}
	isFile := network == "unix" && !strings.HasPrefix(path, "\x00")
	gid := -1
	if isFile {
		if p.Group != "" {
			if gid, err = lookupGroup(p.Group); err != nil {
				return err
			}
		}
		// Like the directory a hub's package makes: others may enter it.
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("socket directory: %w", err)
		}
		removeStaleSocket(path)
	}
	pub := zmq4.NewPub(ctx, zmq4.WithLogger(log.New(io.Discard, "", 0)))
	defer pub.Close()
	if err := pub.Listen(p.Bind); err != nil {
		return fmt.Errorf("bind %s: %w", p.Bind, err)
	}
	if isFile && gid >= 0 {
		if err := os.Chown(path, -1, gid); err != nil {
			return fmt.Errorf("socket group: %w", err)
		}
	}
	if isFile && p.Mode != 0 {
		if err := os.Chmod(path, p.Mode); err != nil {
			return fmt.Errorf("socket mode: %w", err)
		}
	}
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(p.Phase):
	}
	stamp := p.Stamp
	if stamp == nil {
		stamp = WallEpoch(time.Now(), p.Speed)
	}
	hub := NewHub(p.Profiles, p.Seed, stamp)
	tick := time.NewTicker(time.Duration(float64(p.Period) / p.Speed))
	defer tick.Stop()
	simNow := 0.0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		simNow += p.Period.Seconds()
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

// lookupGroup resolves a group name or number.
func lookupGroup(name string) (int, error) {
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		return n, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return -1, fmt.Errorf("socket group: %w", err)
	}
	return strconv.Atoi(g.Gid)
}
