package hubmon

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// rawReader returns a read function for c that makes the read system call
// without telling the Go scheduler, or nil when c has no file descriptor.
//
// A socket's descriptor is non-blocking and registered with the runtime's
// poller, so read returns at once, with data or EAGAIN; on EAGAIN we wait
// in the poller as the net package does. What the raw call saves is the
// scheduler's system call bookkeeping, whose first use after an idle
// spell wakes the runtime's monitor thread (sysmon), which then polls
// every 20 µs for as long as the plugin is busy. For a process that wakes
// for one message every few seconds, those wake-ups were a sixth of its
// CPU time.
func rawReader(c net.Conn) func([]byte) (int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return func(p []byte) (int, error) {
		if len(p) == 0 {
			return 0, nil
		}
		var (
			n     uintptr
			errno syscall.Errno
		)
		err := rc.Read(func(fd uintptr) bool {
			for {
				n, _, errno = syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
				switch errno {
				case syscall.EINTR:
					continue
				case syscall.EAGAIN:
					return false // not ready: wait in the poller
				}
				return true
			}
		})
		switch {
		case err != nil:
			return 0, &net.OpError{Op: "read", Net: c.LocalAddr().Network(), Addr: c.RemoteAddr(), Err: err}
		case errno != 0:
			return 0, &net.OpError{Op: "read", Net: c.LocalAddr().Network(), Addr: c.RemoteAddr(), Err: os.NewSyscallError("read", errno)}
		case n == 0:
			return 0, io.EOF
		}
		return int(n), nil
	}
}
