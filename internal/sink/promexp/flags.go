package promexp

import (
	"errors"
	"flag"
	"fmt"

	"github.com/prometheus/exporter-toolkit/web"

	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
)

// DefaultListen is the exporter's port: the Prometheus wiki's allocations
// filled 9100-9999 in 2023; see the README.
const DefaultListen = ":10077"

// Usage is the head of the exporter command's help, before its flags.
const Usage = "Usage: fedmsg-collectd exporter [flags]\n\n" +
	"A Prometheus exporter: watches the hubs as run does (the same discovery,\n" +
	"reconnection, limits and liveness) and serves their values on\n" +
	"--web.telemetry-path, with a landing page on /.\n"

// Flags are the exporter's own flags: where and how it serves.
type Flags struct {
	Listen    cli.Strings
	WebConfig string
	Path      string
}

// Register registers the flags on fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.Var(&f.Listen, "web.listen-address", "`ADDRESS` to listen on, repeatable (default "+DefaultListen+")")
	fs.StringVar(&f.WebConfig, "web.config.file", "", "exporter-toolkit web configuration `FILE`: TLS and basic authentication")
	fs.StringVar(&f.Path, "web.telemetry-path", "/metrics", "`PATH` of the metrics")
}

// Check checks the values parsed, and sets the default address.
func (f *Flags) Check() error {
	if len(f.Path) == 0 || f.Path[0] != '/' {
		return errors.New("--web.telemetry-path must start with /")
	}
	if f.WebConfig != "" {
		if err := web.Validate(f.WebConfig); err != nil {
			return fmt.Errorf("--web.config.file: %w", err)
		}
	}
	if len(f.Listen) == 0 {
		f.Listen = cli.Strings{DefaultListen}
	}
	return nil
}
