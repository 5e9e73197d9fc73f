//go:build linux

package putval

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestWidenPipe: a pipe gets PipeSize, a regular file is left alone.
func TestWidenPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if n, err := WidenPipe(w); err != nil || n < PipeSize {
		t.Fatalf("WidenPipe: %d, %v; want %d", n, err, PipeSize)
	}
	if n, err := unix.FcntlInt(w.Fd(), unix.F_GETPIPE_SZ, 0); err != nil || n < PipeSize {
		t.Errorf("the pipe's buffer: %d, %v", n, err)
	}
	f, err := os.Create(t.TempDir() + "/out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n, err := WidenPipe(f); n != 0 || err != nil {
		t.Errorf("a regular file: %d, %v; want it left alone", n, err)
	}
}
