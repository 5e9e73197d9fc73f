package hubmon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"syscall"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/ratelog"
)

// Watch subscribes to ep until ctx ends and calls deliver with every
// message, stamped with its arrival time, the period observed so far and
// its session, from a single goroutine, in arrival order. Deliver must
// return quickly: while it runs, messages queue in the socket.
//
// A hub that is not running, a stale ipc file or a closed port is waited
// for quietly; a session that breaks or stays silent for IdlePeriods publish
// periods is replaced by a new one after a short, jittered backoff. What
// the messages hold is not looked at: decoding is the pipeline's.
func Watch(ctx context.Context, ep model.Endpoint, opt Options, st *Stats, deliver func(model.Message)) {
	w := newWatcher(ep, opt, st, deliver)
	backoff := minBackoff
	for ctx.Err() == nil {
		got, err := w.session(ctx)
		if got {
			backoff = minBackoff
		}
		if err != nil && ctx.Err() == nil {
			msg := err.Error()
			w.st.lastErr.Store(&msg)
			switch {
			case errors.Is(err, syscall.EACCES) && !w.hinted:
				w.hinted = true
				w.accessDenied(err)
			case !quiet(err):
				w.logf("hub session ended", "err", err)
			}
		}
		// Full jitter over [backoff/2, backoff): hubs restarted together
		// are not all dialled in the same instant.
		d := backoff/2 + rand.N(backoff/2)
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

func newWatcher(ep model.Endpoint, opt Options, st *Stats, deliver func(model.Message)) *watcher {
	registerTransports()
	w := &watcher{ep: ep, opt: opt.withDefaults(), st: st, deliver: deliver}
	if w.st == nil {
		w.st = new(Stats)
	}
	w.log = w.opt.Logger.With("service", ep.Service, "endpoint", ep.Addr)
	return w
}

type watcher struct {
	ep      model.Endpoint
	opt     Options
	st      *Stats
	deliver func(model.Message)
	log     *slog.Logger
	logs    ratelog.Limiter
	period  Period
	prev    time.Time
	lastID  int64 // the session of the previous message
	hinted  bool  // a permission error has been explained
}

// accessDenied logs a permission error with who this process is and who
// may connect to the socket, once; later ones are ordinary log lines.
func (w *watcher) accessDenied(err error) {
	network, path, _ := SplitAddr(w.ep.Addr)
	if network != "unix" || strings.HasPrefix(path, "\x00") {
		w.logf("hub session ended", "err", err)
		return
	}
	w.logs.Mark(time.Now())
	w.log.Warn("permission denied on the hub's monitoring socket", "err", err, "hint", AccessHint(path))
}

// logf logs at most once per ratelog.Every for this endpoint. It is safe
// for concurrent use: the size limit reports from zmq4's reader goroutine.
func (w *watcher) logf(msg string, args ...any) {
	if !w.logs.Allow(time.Now()) {
		return
	}
	w.log.Warn(msg, args...)
}

// quiet reports errors that only mean the hub is not there (yet): they are
// the normal state of a stopped hub and not worth a log line.
func quiet(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, errIdle) || errors.Is(err, io.EOF)
}

var errIdle = errors.New("no message for too long")

// session runs sessions with the endpoint until one breaks without a
// replacement, or ctx ends; it reports whether any message arrived.
//
// A session silent for IdlePeriods publish periods is not broken at once:
// the hub may only be stopped or slow. A new session is made beside it
// (make before break) while the old one is still read; whichever delivers
// first stays and the other is closed. So a hub that was stopped and goes
// on publishes to a connection that is still subscribed, and its first
// message is not lost.
func (w *watcher) session(ctx context.Context) (got bool, err error) {
	cur, err := w.open(ctx)
	if err != nil {
		return false, err
	}
	var (
		standby  *link
		dialling chan dialResult // a new session being made, or nil
		retry    <-chan time.Time
	)
	abandon := func() {
		if standby != nil {
			standby.close()
			standby = nil
		}
		if dialling != nil {
			// The dial ends soon (its context is cancelled); close what
			// it makes.
			go func(c chan dialResult) {
				if r := <-c; r.l != nil {
					r.l.close()
				}
			}(dialling)
			dialling = nil
		}
	}
	defer func() {
		abandon()
		cur.close()
	}()
	dctx, dcancel := context.WithCancel(ctx)
	defer dcancel()
	idle := time.NewTimer(w.idleLimit())
	defer idle.Stop()
	for {
		var sbMsgs <-chan arrival
		var sbErr <-chan error
		if standby != nil {
			sbMsgs, sbErr = standby.msgs, standby.err
		}
		select {
		case <-ctx.Done():
			return got, ctx.Err()
		case err := <-cur.err:
			if standby == nil {
				return got, err
			}
			cur.close()
			cur, standby = standby, nil
		case a := <-cur.msgs:
			if w.handle(cur, a) {
				got = true
				abandon()
				idle.Reset(w.idleLimit())
			}
		case a := <-sbMsgs:
			// A hub that goes on after a stop publishes its next message
			// to both sessions, whose readers race: when the one it had
			// has it too within standbyGrace, that one stays.
			grace := time.NewTimer(standbyGrace)
			select {
			case c := <-cur.msgs:
				grace.Stop()
				if w.handle(cur, c) {
					got = true
					abandon()
					idle.Reset(w.idleLimit())
					continue
				}
			case <-grace.C:
			}
			if w.handle(standby, a) {
				got = true
				cur.close()
				cur, standby = standby, nil
				abandon()
				idle.Reset(w.idleLimit())
			}
		case <-sbErr:
			standby.close()
			standby = nil
		case r := <-dialling:
			dialling = nil
			if r.err != nil {
				retry = time.After(w.backoff())
			} else {
				standby = r.l
			}
		case <-retry:
			retry = nil
			dialling = w.dial(dctx)
		case <-idle.C:
			if standby == nil && dialling == nil && retry == nil {
				dialling = w.dial(dctx)
			}
			idle.Reset(w.idleLimit())
		}
	}
}

// standbyGrace is how long a new session's first message waits for the
// old session's: a hub that was stopped sends it to both at once.
const standbyGrace = 50 * time.Millisecond

// dialResult is a session made, or why not.
type dialResult struct {
	l   *link
	err error
}

// dial makes a new session in the background.
func (w *watcher) dial(ctx context.Context) chan dialResult {
	c := make(chan dialResult, 1)
	go func() {
		l, err := w.open(ctx)
		c <- dialResult{l, err}
	}()
	return c
}

// backoff is a jittered pause before another attempt at a standby.
func (w *watcher) backoff() time.Duration {
	return minBackoff + rand.N(maxBackoff-minBackoff)
}

// reject counts and logs a connection the guard dropped.
func (w *watcher) reject(err error) {
	if errors.Is(err, errOversize) {
		w.st.Oversize.Add(1)
		w.logf("dropped a connection announcing a message over the size limit",
			"err", err, "limit", w.opt.MaxMessage, "oversize", w.st.Oversize.Load())
		return
	}
	w.st.Refused.Add(1)
	w.logf("dropped a peer whose handshake is not a publisher's", "err", err, "refused", w.st.Refused.Load())
}

// idleLimit is how long a session may go without a message.
func (w *watcher) idleLimit() time.Duration {
	return time.Duration(w.opt.IdlePeriods) * w.period.Estimate()
}

// handle stamps one message of link l with the period and session and
// delivers it; it reports false for what is not a message (a command).
func (w *watcher) handle(l *link, a arrival) bool {
	if a.msg.Type == zmq4.CmdMsg || len(a.msg.Frames) == 0 {
		return false
	}
	if l.id != w.lastID {
		w.prev, w.lastID = time.Time{}, l.id // a gap across sessions says nothing of the period
	}
	if !w.prev.IsZero() {
		w.period.Observe(a.at.Sub(w.prev))
	}
	w.prev = a.at
	// moksha sends one frame; should a topic frame ever precede it, the
	// body is the last one.
	body := a.msg.Frames[len(a.msg.Frames)-1]
	period := w.period.Estimate()
	if !w.period.Known() {
		period = 0
	}
	w.st.Messages.Add(1)
	w.deliver(model.Message{Endpoint: w.ep, Raw: body, Arrival: a.at, Period: period, Session: l.id})
	return true
}
