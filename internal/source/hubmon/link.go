package hubmon

import (
	"context"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/go-zeromq/zmq4"
)

// link is one subscriber session: a SUB dialled, handshaken and
// subscribed, and the goroutine that reads it.
type link struct {
	id     int64 // the session's number, from Stats.Sessions
	sub    zmq4.Socket
	cancel context.CancelFunc
	msgs   chan arrival
	err    chan error
	done   chan struct{}
	closed bool
}

type arrival struct {
	msg zmq4.Msg
	at  time.Time
}

// open dials, handshakes and subscribes a new session. The connect is
// bounded by DialTimeout, and the handshake by HandshakeTimeout from the
// moment the connection is made: a peer that accepts and never speaks
// holds the endpoint that long, not the two added.
func (w *watcher) open(ctx context.Context) (*link, error) {
	addr, err := dialAddr(w.ep.Addr)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	// The timer cancels the session, which closes the connection
	// (closingTransport) and so frees a Dial stuck in the greeting of a
	// peer that never speaks.
	hs := time.AfterFunc(w.opt.DialTimeout, cancel)
	sctx = withLimit(sctx, uint64(w.opt.MaxMessage), w.reject, func() { hs.Reset(w.opt.HandshakeTimeout) })
	sub := zmq4.NewSub(sctx,
		zmq4.WithDialerMaxRetries(0),
		zmq4.WithDialerTimeout(w.opt.DialTimeout),
		zmq4.WithLogger(log.New(io.Discard, "", 0)),
	)
	err = sub.Dial(addr)
	if !hs.Stop() && ctx.Err() == nil {
		err = fmt.Errorf("no connection or no ZMTP handshake within %v of it", w.opt.HandshakeTimeout)
	}
	if err != nil {
		cancel()
		sub.Close()
		return nil, err
	}
	if err := sub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		cancel()
		sub.Close()
		return nil, err
	}
	l := &link{id: w.st.Sessions.Add(1), sub: sub, cancel: cancel,
		msgs: make(chan arrival), err: make(chan error, 1), done: make(chan struct{})}
	go l.read(sctx, w.opt.Now)
	return l, nil
}

// read hands the session's messages to msgs until Recv fails or the
// session ends.
func (l *link) read(ctx context.Context, now func() time.Time) {
	defer close(l.done)
	for {
		m, err := l.sub.Recv()
		if err != nil {
			l.err <- err
			break
		}
		select {
		// Without its monotonic reading, an arrival time compares and
		// subtracts the same live and when replayed from a capture.
		case l.msgs <- arrival{m, now().Round(0)}:
			continue
		case <-ctx.Done():
		}
		break
	}
	// After Close, zmq4's per-connection reader may still be blocked
	// handing us a queued message; receive until it has given up.
	<-ctx.Done()
	for fails := 0; fails < drainFails; {
		if _, err := l.sub.Recv(); err != nil {
			fails++
		} else {
			fails = 0
		}
	}
}

// close ends the session and waits for its reader.
func (l *link) close() {
	if l.closed {
		return
	}
	l.closed = true
	l.cancel()
	l.sub.Close()
	<-l.done
}
