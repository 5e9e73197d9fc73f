package hubmon

import (
	"log/slog"
	"sync/atomic"
	"time"
)

// Options tune a Watch. The zero value gives the defaults.
type Options struct {
	// IdlePeriods is how many publish periods without a message make a
	// new session beside the silent one (make before break). Default 3.
	IdlePeriods int
	// DialTimeout bounds one connect, HandshakeTimeout the ZMTP greeting
	// once connected (a hub answers in milliseconds). Defaults 5 s and 2 s.
	DialTimeout, HandshakeTimeout time.Duration
	// MaxMessage is the largest message accepted, in bytes; a peer that
	// announces a larger frame or message is disconnected before anything
	// is allocated for it. Default DefaultMaxMessage.
	MaxMessage int
	// Logger receives the rare diagnostics; default slog.Default().
	Logger *slog.Logger
	// Now stamps arrival times; default time.Now.
	Now func() time.Time
}

const (
	minBackoff = 200 * time.Millisecond
	maxBackoff = 2 * time.Second
	// drainFails is how many failed Recv calls in a row, after Close, empty
	// the queue zmq4's reader goroutine may still be blocked on.
	drainFails = 64
)

func (o Options) withDefaults() Options {
	if o.IdlePeriods <= 0 {
		o.IdlePeriods = 3
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = 2 * time.Second
	}
	if o.MaxMessage <= 0 {
		o.MaxMessage = DefaultMaxMessage
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Stats are the counters of one endpoint's watcher. They are updated
// atomically and may be read at any time.
type Stats struct {
	Sessions atomic.Int64 // sessions that completed a handshake
	Messages atomic.Int64 // messages delivered
	Oversize atomic.Int64 // connections dropped for a message over MaxMessage
	Refused  atomic.Int64 // connections dropped for a handshake not a publisher's

	lastErr atomic.Pointer[string] // why the latest session ended
}

// LastError says why the latest session ended, or why it could not start;
// empty if none has.
func (st *Stats) LastError() string {
	if p := st.lastErr.Load(); p != nil {
		return *p
	}
	return ""
}
