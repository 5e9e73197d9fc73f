//go:build noexporter

package main

import (
	"context"
	"errors"
	"io"
)

// exporterCmd of a build without the Prometheus exporter (-tags
// noexporter), which spares every command its libraries' memory.
func exporterCmd(_ context.Context, _ []string, _, stderr io.Writer) int {
	return usageError(stderr, "", errors.New("this build has no exporter (built with -tags noexporter)"))
}
