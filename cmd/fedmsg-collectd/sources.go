package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/analytics"
	"github.com/fedora-infra/fedmsg-collectd/internal/source"
)

// config is what the command line asks for: flag values only; the
// sources are built from it once, by the registry.
type config struct {
	sources   source.Flags
	host      string
	logLevel  slog.Level
	interval  time.Duration
	smoothing time.Duration
	capture   string
}

// sourceFlags registers the flags that choose and watch sources (the
// registry's), and --log-level, shared by every command that reads them,
// check included; it returns the check of their values, to call after
// parsing.
func sourceFlags(fs *flag.FlagSet, c *config) func() error {
	c.sources.Register(fs)
	level := fs.String("log-level", "warn", "stderr log level: error, warn, info or debug")
	return func() error {
		if err := c.logLevel.UnmarshalText([]byte(*level)); err != nil {
			return fmt.Errorf("--log-level: %w", err)
		}
		return c.sources.Check()
	}
}

// pipelineFlags registers the flags of the pipeline that run, exporter,
// netdata and zabbix serve, and returns the check of their values.
func pipelineFlags(fs *flag.FlagSet, c *config) func() error {
	fs.DurationVar(&c.smoothing, "smoothing", analytics.DefaultSmoothing, "time constant of the exponential smoothing behind the wait, rate\nand drain-time values")
	fs.StringVar(&c.capture, "capture", "", "also record every message taken in, with its arrival time, as JSON\nlines in `FILE` (for bug reports: \"fedmsg-collectd replay FILE\" prints\nthe same values again)")
	return func() error {
		if c.smoothing < time.Second {
			return errors.New("--smoothing must be at least 1s")
		}
		return nil
	}
}
