//go:build noexporter

package main

import (
	"context"
	"errors"
	"io"

	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
)

// exporterCommand of a build without the Prometheus exporter (-tags
// noexporter), which spares every command its libraries' memory.
func exporterCommand() command {
	return command{name: "exporter", args: "[flags]", summary: "a Prometheus exporter (not in this build)",
		main: func(_ context.Context, _ []string, _, stderr io.Writer) int {
			return cli.UsageError(stderr, "", errors.New("this build has no exporter (built with -tags noexporter)"))
		}}
}
