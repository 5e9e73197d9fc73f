package main

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// blockingPipe returns a pipe as collectd gives one to its Exec programs:
// blocking, its write end not yet known to Go's poller.
func blockingPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	r, w = os.NewFile(uintptr(fds[0]), "r"), os.NewFile(uintptr(fds[1]), "w")
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

func nonblocking(t *testing.T, f *os.File) bool {
	t.Helper()
	fl, _, errno := syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), syscall.F_GETFL, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	return fl&syscall.O_NONBLOCK != 0
}

// TestPipeStdout: on a pipe, everything written arrives whole and in order
// however slowly the reader reads; a full pipe parks only the writer, even
// on one thread; restore makes the pipe blocking again; a reader gone is
// an error.
func TestPipeStdout(t *testing.T) {
	r, w := blockingPipe(t)
	out, restore := pipeStdout(w)
	if _, ok := out.(*pipeWriter); !ok || !nonblocking(t, w) {
		t.Fatalf("pipeStdout on a pipe gave %T, non-blocking %v", out, nonblocking(t, w))
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))

	rng := rand.New(rand.NewPCG(1, 2))
	var sent []byte
	var chunks [][]byte
	for len(sent) < 2<<20 {
		c := make([]byte, 1+rng.IntN(200<<10)) // some over the 64 KiB a pipe holds
		for i := range c {
			c[i] = byte(rng.Uint32())
		}
		chunks = append(chunks, c)
		sent = append(sent, c...)
	}
	werr := make(chan error, 1)
	go func() {
		for _, c := range chunks {
			if n, err := out.Write(c); err != nil || n != len(c) {
				werr <- errors.Join(err, io.ErrShortWrite)
				return
			}
		}
		werr <- nil
	}()
	// The writer has filled the pipe and waits; this goroutine, on the
	// same single thread, still runs.
	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-werr:
		t.Fatalf("all written into a pipe nobody read: %v", err)
	default:
	}
	got := make([]byte, 0, len(sent))
	buf := make([]byte, 7000)
	for len(got) < len(sent) {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, sent) {
		t.Fatalf("read %d bytes, not what was written", len(got))
	}

	r.Close()
	if _, err := out.Write([]byte("PUTVAL x\n")); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("write with the reader gone: %v, want EPIPE", err)
	}
	restore()
	if nonblocking(t, w) {
		t.Error("still non-blocking after restore")
	}
}

// TestPipeStdoutNotAPipe: a file (or a terminal) is written as it is and
// keeps its mode: non-blocking mode is shared with whoever else has it open.
func TestPipeStdoutNotAPipe(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out, restore := pipeStdout(f)
	defer restore()
	if out != io.Writer(f) || nonblocking(t, f) {
		t.Errorf("pipeStdout on a file gave %T, non-blocking %v", out, nonblocking(t, f))
	}
}
