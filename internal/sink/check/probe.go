package check

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/hubmon"
)

// Probe checks the hub at ep: it tells the usual reasons it cannot be
// read apart at once (no socket, permission denied, nothing listening),
// then runs the hub through the pipeline, as run does, until the check has
// the snapshots spec needs; it never takes longer than timeout.
func Probe(ctx context.Context, ep model.Endpoint, timeout time.Duration, spec Spec) Result {
	if res, failed := reachable(ep, timeout); failed {
		return res
	}
	src := &hubmon.Supervisor{Options: hubmon.Options{Logger: slog.New(slog.DiscardHandler)}, List: hubmon.Static([]model.Endpoint{ep})}
	need := spec.Snapshots()
	return Run(ctx, src, ep.Service, need, timeout, spec, func(got int, why string) Result {
		if need > 1 {
			// A hub publishes every 5 s: two snapshots take up to 10 s.
			return Fail("%d of the %d successive snapshots needed from %s within %s%s (a hub publishes every 5 s: "+
				"for --wait-* and --drain-* give --timeout 15s, and check_nrpe -t 20)", got, need, ep.Addr, timeout, why)
		}
		return Fail("no snapshot from %s within %s%s", ep.Addr, timeout, why)
	})
}

// reachable tells the usual reasons a hub cannot be read apart, at once,
// rather than waiting out the timeout.
func reachable(ep model.Endpoint, timeout time.Duration) (Result, bool) {
	network, addr, err := hubmon.SplitAddr(ep.Addr)
	if err != nil {
		return Fail("endpoint %s: %v", ep.Addr, err), true
	}
	shown := addr
	if addr[0] == 0 {
		shown = "@" + addr[1:] // an abstract socket
	} else if network == "unix" {
		if _, err := os.Stat(addr); errors.Is(err, os.ErrNotExist) {
			return Fail("socket %s does not exist (is the hub installed and its monitoring socket configured?)", addr), true
		}
	}
	conn, err := net.DialTimeout(network, addr, timeout)
	switch {
	case err == nil:
		conn.Close()
		return Result{}, false
	case errors.Is(err, syscall.EACCES):
		return Fail("permission denied on %s (is this user in the socket's group?)", shown), true
	case errors.Is(err, syscall.ECONNREFUSED):
		return Fail("no hub listening on %s", shown), true
	}
	return Fail("cannot connect to %s: %v", ep.Addr, err), true
}
