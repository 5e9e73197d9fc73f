// Package capture records monitoring messages with their arrival times as
// JSON lines, and reads them back, together with plain snapshots as a hub
// sends them, for replay through the plugin's decode-derive-write path.
package capture

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// Record is one line of a capture file.
type Record struct {
	Service  string    `json:"service"`
	Endpoint string    `json:"endpoint"`
	Arrival  time.Time `json:"arrival"`
	// Period is the publish period measured when it arrived, in seconds.
	Period  float64 `json:"period"`
	Session int64   `json:"session"`
	// Message is the message as received when it is JSON; Text holds it
	// otherwise (garbage, or NaN as Python writes it), so that a capture
	// keeps what made the plugin complain.
	Message json.RawMessage `json:"message,omitempty"`
	Text    *string         `json:"text,omitempty"`
}

// Writer appends records to an io.Writer, one JSON object per line. It is
// safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	w   *bufio.Writer
	n   int
	err error
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriter(w)} }

// Add records one message and flushes it; a heartbeat it leaves out.
func (cw *Writer) Add(m model.Message) error {
	if m.Heartbeat {
		return nil // a broker's answer with nothing in it to replay
	}
	r := Record{Service: m.Endpoint.Service, Endpoint: m.Endpoint.Addr, Arrival: m.Arrival, Period: m.Period.Seconds(), Session: m.Session}
	if json.Valid(m.Raw) {
		r.Message = m.Raw
	} else {
		t := string(m.Raw)
		r.Text = &t
	}
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	cw.mu.Lock()
	defer cw.mu.Unlock()
	if cw.err != nil {
		return cw.err
	}
	cw.w.Write(line)
	cw.w.WriteByte('\n')
	if cw.err = cw.w.Flush(); cw.err == nil {
		cw.n++
	}
	return cw.err
}

// Count returns how many records were written.
func (cw *Writer) Count() int {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	return cw.n
}

// Run runs src and records its messages to cw until ctx ends, count
// messages are recorded (0: no limit) or writing fails (the error).
func Run(ctx context.Context, src interface {
	Run(context.Context, func(model.Message))
}, cw *Writer, count int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		once   sync.Once
		failed error // set by one endpoint's goroutine, then the run ends
	)
	src.Run(ctx, func(m model.Message) {
		if ctx.Err() != nil {
			return
		}
		if err := cw.Add(m); err != nil {
			once.Do(func() { failed = err })
			cancel()
			return
		}
		if count > 0 && cw.Count() >= count {
			cancel()
		}
	})
	return failed
}

// Appender opens path to append every message a pipeline takes in (run
// --capture): OnMessage records one (a polled source's snapshots have no
// message to record, and are left out), Close closes the file.
func Appender(path string, log *slog.Logger) (onMessage func(model.Message), close func() error, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("--capture: %w", err)
	}
	cw := NewWriter(f)
	return func(m model.Message) {
		if m.Snapshot != nil {
			return
		}
		if err := cw.Add(m); err != nil {
			log.Warn("capture failed", "err", err)
		}
	}, f.Close, nil
}
