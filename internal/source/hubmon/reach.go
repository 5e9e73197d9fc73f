package hubmon

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// Reach tells the usual reasons the hub at ep cannot be read apart at once
// (no socket, permission denied, nothing listening, a connection that
// fails), rather than when a deadline passes; it is empty when a
// connection could be made within timeout.
func Reach(ep model.Endpoint, timeout time.Duration) string {
	network, addr, err := SplitAddr(ep.Addr)
	if err != nil {
		return fmt.Sprintf("endpoint %s: %v", ep.Addr, err)
	}
	shown := addr
	if addr[0] == 0 {
		shown = "@" + addr[1:] // an abstract socket
	} else if network == "unix" {
		if _, err := os.Stat(addr); errors.Is(err, os.ErrNotExist) {
			return fmt.Sprintf("socket %s does not exist (is the hub installed and its monitoring socket configured?)", addr)
		}
	}
	conn, err := net.DialTimeout(network, addr, timeout)
	switch {
	case err == nil:
		conn.Close()
		return ""
	case errors.Is(err, syscall.EACCES):
		return fmt.Sprintf("permission denied on %s (is this user in the socket's group?)", shown)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("no hub listening on %s", shown)
	}
	return fmt.Sprintf("cannot connect to %s: %v", ep.Addr, err)
}

// Hopeless says why a hub listed at the first call cannot be read (Reach,
// each given the dial timeout), or is empty: asked once, for a one-shot
// check's answer at once; the answer is kept, since a check's run is short.
func (s *Supervisor) Hopeless() string {
	s.reach.Do(func() {
		eps, err := s.List()
		if err != nil {
			s.unreachable = err.Error()
			return
		}
		for _, ep := range eps {
			if why := Reach(ep, s.Options.withDefaults().DialTimeout); why != "" {
				s.unreachable = why
				return
			}
		}
	})
	return s.unreachable
}

// LastError says why a watched hub's latest session ended, or could not
// start; empty if none has.
func (s *Supervisor) LastError() string {
	for _, w := range s.Watched() {
		if w.LastError != "" {
			return w.LastError
		}
	}
	return ""
}
