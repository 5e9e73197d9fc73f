package main

import (
	"io"
	"os"
	"syscall"
	"unsafe"
)

// pipeStdout returns the writer the plugin writes its values to, and a
// function that undoes what it changed, to call before exiting.
//
// When stdout is a pipe, as under collectd, it is put in non-blocking mode
// (until that function runs) and written with the raw write system call
// inside the runtime poller's readiness loop: a full pipe (collectd not
// reading) parks only the writing goroutine, as before, and a write no
// longer goes through the scheduler's system call bookkeeping, whose
// first use after an idle spell wakes the runtime's monitor thread
// (sysmon), which then polls every 20 µs while the plugin works (hubmon's
// connections are read the same way). Anything else (a terminal, a file)
// is written as it is: non-blocking mode is a property of the open file,
// shared with whoever else holds it, such as a shell.
func pipeStdout(f *os.File) (io.Writer, func()) {
	// The descriptor's number; f.Fd would make it blocking.
	fd := -1
	if sc, err := f.SyscallConn(); err == nil {
		sc.Control(func(d uintptr) { fd = int(d) })
	}
	var st syscall.Stat_t
	if fd < 0 || syscall.Fstat(fd, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		return f, func() {}
	}
	fl, _, errno := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
	if errno != 0 {
		return f, func() {}
	}
	wasNonblock := fl&syscall.O_NONBLOCK != 0
	// A File of its own on a duplicate of the descriptor: non-blocking, it
	// is taken into the poller whatever became of the original (os.Stdout
	// is in the poller only if stdout was non-blocking at start), and
	// closing it leaves the original alone.
	dup, err := syscall.Dup(fd)
	if err != nil {
		return f, func() {}
	}
	syscall.CloseOnExec(dup)
	if err := syscall.SetNonblock(dup, true); err != nil { // both: one open file
		syscall.Close(dup)
		return f, func() {}
	}
	nf := os.NewFile(uintptr(dup), f.Name())
	undo := func() {
		if !wasNonblock {
			syscall.SetNonblock(dup, false)
		}
		nf.Close()
	}
	rc, err := nf.SyscallConn()
	if err != nil {
		undo()
		return f, func() {}
	}
	return &pipeWriter{f: nf, rc: rc}, undo
}

// pipeWriter writes to a non-blocking pipe with raw system calls.
type pipeWriter struct {
	f  *os.File
	rc syscall.RawConn
}

// Write implements io.Writer: it writes all of p or returns an error.
func (w *pipeWriter) Write(p []byte) (int, error) {
	var (
		done  int
		errno syscall.Errno
	)
	err := w.rc.Write(func(fd uintptr) bool {
		for done < len(p) {
			n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[done])), uintptr(len(p)-done))
			switch e {
			case 0:
				done += int(n)
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false // the pipe is full: wait in the poller
			default:
				errno = e
				return true
			}
		}
		return true
	})
	switch {
	case err != nil:
		return done, &os.PathError{Op: "write", Path: w.f.Name(), Err: err}
	case errno != 0:
		return done, &os.PathError{Op: "write", Path: w.f.Name(), Err: errno}
	}
	return done, nil
}
