package top

import (
	"os"

	"golang.org/x/sys/unix"
)

// StopKeys makes Ctrl-C and q on the terminal f keys that the program
// showing the table reads, not a signal: the terminal stops making SIGINT
// of Ctrl-C (and echoing keys), and either key calls stop. So the demo
// stops with status 0 however it was started: under "go run", a SIGINT to
// the terminal's process group made the go command exit 1. It returns
// what restores the terminal; on anything but a terminal it does nothing.
func StopKeys(f *os.File, stop func()) (restore func()) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return func() {}
	}
	t := *old
	t.Lflag &^= unix.ISIG | unix.ICANON | unix.ECHO
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &t); err != nil {
		return func() {}
	}
	go func() {
		var b [16]byte
		for {
			n, err := f.Read(b[:])
			for _, c := range b[:n] {
				if c == 3 || c == 'q' { // Ctrl-C
					stop()
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, old) }
}
