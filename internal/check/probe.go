package check

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/hubmon"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// Probe reads the snapshots spec needs from ep (one, or two successive ones
// for the expected wait and the drain time) and evaluates them (spec's Now
// is the last one's arrival); it never takes longer than timeout. What
// stops it from reading (no socket, permission denied, no hub listening,
// too few snapshots within the timeout, a malformed message) is UNKNOWN.
func Probe(ctx context.Context, ep model.Endpoint, timeout time.Duration, spec Spec) Result {
	// Cancelled rather than given a deadline: a dial that a deadline ends
	// would fail a moment before the context says so, and pass for why
	// the hub could not be read.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := time.AfterFunc(timeout, cancel)
	defer stop.Stop()
	if res, failed := reachable(ep, timeout); failed {
		return res
	}
	need := spec.Snapshots()
	var (
		snaps []model.Snapshot
		bad   error
	)
	opts := hubmon.Options{Logger: slog.New(slog.DiscardHandler)}
	st := new(hubmon.Stats)
	// Watch calls deliver on this goroutine, from its loop.
	hubmon.Watch(ctx, ep, opts, st, func(m model.Message) {
		s, err := model.Decode(m.Raw, m.Arrival)
		if err != nil {
			bad = err
			cancel()
			return
		}
		s.Period, s.Session = m.Period, m.Session
		if len(snaps) > 0 && s.Session != snaps[len(snaps)-1].Session {
			snaps = snaps[:0] // the hub restarted: start again
		}
		if snaps = append(snaps, s); len(snaps) == need {
			cancel()
		}
	})
	switch {
	case bad != nil:
		return Fail("malformed snapshot from %s: %v", ep.Addr, bad)
	case len(snaps) < need:
		why := ""
		if e := st.LastError(); e != "" {
			why = " (" + e + ")"
		}
		if need > 1 {
			return Fail("%d of the %d successive snapshots needed from %s within %s%s", len(snaps), need, ep.Addr, timeout, why)
		}
		return Fail("no snapshot from %s within %s%s", ep.Addr, timeout, why)
	}
	spec.Now = snaps[len(snaps)-1].Arrival
	return Evaluate(snaps, spec)
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
