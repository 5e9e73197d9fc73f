package hubmon

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// Flags is what the command line says of the hubs to watch: the moksha
// source registers its own flags and builds itself from them.
type Flags struct {
	Endpoints   []model.Endpoint
	SocketDir   string
	Rescan      time.Duration
	Forget      time.Duration
	IdlePeriods int
	MaxMessage  int
	maxMessage  string
}

// Register registers the flags on fs, with their defaults.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.Func("endpoint", "hub monitoring socket, `[SERVICE=]ENDPOINT`, repeatable. ENDPOINT is\n"+
		"ipc://PATH (ipc:////PATH too) or tcp://HOST:PORT. SERVICE (the plugin field\n"+
		"of the identifiers, e.g. fedmsg-hub) defaults to what the endpoint gives:\n"+
		"monitoring-SERVICE.socket gives SERVICE, another ipc file fedmsg-NAME,\n"+
		"tcp://HOST:PORT fedmsg-HOST_PORT (non-alphanumerics as _)", f.AddEndpoint)
	fs.StringVar(&f.SocketDir, "socket-dir", DefaultSocketDir, "where to discover `DIR`/monitoring-*.socket when no --endpoint is given,\nbeside any other source; empty (--socket-dir=) for no discovery")
	fs.DurationVar(&f.Rescan, "rescan", 10*time.Second, "how often to rescan --socket-dir")
	fs.DurationVar(&f.Forget, "forget-after", 24*time.Hour, "how long a hub whose socket went away from --socket-dir is still\nreported, lost (hub_up 0), before it is forgotten")
	fs.IntVar(&f.IdlePeriods, "idle-periods", 3, "reconnect after this many publish periods without a message")
	fs.StringVar(&f.maxMessage, "max-message", "4MiB", "largest monitoring message accepted, in bytes (suffixes KiB, MiB);\na hub sending more is disconnected before the message is read")
}

// AddEndpoint takes one --endpoint: parsed, its service checked and distinct.
func (f *Flags) AddEndpoint(s string) error {
	ep, err := ParseEndpoint(s)
	if err == nil {
		if err = model.CheckService(ep.Service); err != nil {
			err = fmt.Errorf("endpoint %q: %w", s, err)
		}
	}
	if err != nil {
		return err
	}
	for _, prev := range f.Endpoints {
		if prev.Service == ep.Service {
			return fmt.Errorf("service %s is given to both %s and %s: name them apart with SERVICE=", ep.Service, prev.Addr, ep.Addr)
		}
	}
	f.Endpoints = append(f.Endpoints, ep)
	return nil
}

// Check checks the values parsed; call it after parsing.
func (f *Flags) Check() error {
	switch {
	case f.Rescan <= 0:
		return errors.New("--rescan must be positive")
	case f.Forget <= 0:
		return errors.New("--forget-after must be positive")
	case f.IdlePeriods < 1:
		return errors.New("--idle-periods must be at least 1")
	}
	var err error
	if f.MaxMessage, err = parseSize(f.maxMessage); err != nil || f.MaxMessage < 1024 {
		return fmt.Errorf("--max-message %q: want a size of at least 1KiB, such as 4MiB", f.maxMessage)
	}
	return nil
}

// Build returns the source the flags ask for: the hubs named with
// --endpoint, else those discovered in --socket-dir, whatever other
// sources are given; nil when --socket-dir is empty and no --endpoint is
// given.
func (f *Flags) Build(log *slog.Logger) *Supervisor {
	if len(f.Endpoints) == 0 && f.SocketDir == "" {
		return nil
	}
	sup := &Supervisor{
		Options: Options{IdlePeriods: f.IdlePeriods, MaxMessage: f.MaxMessage, Logger: log},
		List:    Static(f.Endpoints),
		Rescan:  f.Rescan,
		Forget:  f.Forget,
	}
	if len(f.Endpoints) == 0 {
		d := &Discovery{Dir: f.SocketDir, Log: log}
		sup.List, sup.Skipped = d.List, d.Skipped
	}
	return sup
}

// parseSize reads a byte count with an optional KiB or MiB suffix.
func parseSize(s string) (int, error) {
	mult := 1
	for suffix, m := range map[string]int{"KiB": 1 << 10, "MiB": 1 << 20} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = n, m
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("size %q", s)
	}
	return n * mult, nil
}
