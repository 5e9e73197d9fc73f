//go:build linux

package main

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fedora-infra/fedmsg-collectd/internal/sink/putval"
	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// TestStdoutPipe: run widens the pipe collectd reads its lines from.
func TestStdoutPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go io.Copy(io.Discard, r)
	ctx, cancel := context.WithCancel(context.Background())
	var errs testhub.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--socket-dir", t.TempDir(), "--interval", "1s", "--hostname", "h"}, w, &errs)
		w.Close()
	}()
	n := 0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && n < putval.PipeSize; {
		time.Sleep(10 * time.Millisecond) // polling the pipe's size
		n, _ = unix.FcntlInt(r.Fd(), unix.F_GETPIPE_SZ, 0)
	}
	cancel()
	<-done
	if n < putval.PipeSize {
		t.Errorf("stdout's pipe holds %d bytes, want %d; stderr:\n%s", n, putval.PipeSize, errs.String())
	}
}
