//go:build noexporter

package main

import (
	"context"
	"errors"
	"io"

	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
)

// exporterCmd of a build without the Prometheus exporter (-tags
// noexporter), which spares every command its libraries' memory.
func exporterCmd(_ context.Context, _ []string, _, stderr io.Writer) int {
	return cli.UsageError(stderr, "", errors.New("this build has no exporter (built with -tags noexporter)"))
}
