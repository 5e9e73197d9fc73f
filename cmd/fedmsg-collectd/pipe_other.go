//go:build !linux

package main

import (
	"io"
	"os"
)

// pipeStdout is Linux only; elsewhere stdout is written as it is.
func pipeStdout(f *os.File) (io.Writer, func()) { return f, func() {} }
