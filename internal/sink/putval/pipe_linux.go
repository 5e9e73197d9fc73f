package putval

import (
	"os"

	"golang.org/x/sys/unix"
)

// PipeSize is the buffer WidenPipe asks for: Linux's default limit for
// an unprivileged process (/proc/sys/fs/pipe-max-size).
const PipeSize = 1 << 20

// WidenPipe gives the pipe f writes to (collectd reading the plugin's
// stdout) a buffer of PipeSize, and returns its size; a file that is not
// a pipe is left as it is (0). A hub's snapshot is 60-70 KB of lines at
// 50 consumers: through the default 64 KiB pipe each write waited for
// collectd to read, and the wake-ups both ways were a quarter of the
// plugin's CPU at 10 hubs (scripts/bench). Not widened, nothing is lost:
// the error is returned for the log.
func WidenPipe(f *os.File) (int, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return 0, err
	}
	if n, err := unix.FcntlInt(f.Fd(), unix.F_GETPIPE_SZ, 0); err == nil && n >= PipeSize {
		return n, nil
	}
	return unix.FcntlInt(f.Fd(), unix.F_SETPIPE_SZ, PipeSize)
}
