// Package httppoll is what the polled HTTP sources (a RabbitMQ broker's
// management API, a service's stage counters) share: one bounded,
// streaming GET, and one rule for the deltas of cumulative counters.
package httppoll

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ErrOversize is what Get returns, wrapped, for an answer over its limit.
var ErrOversize = errors.New("answer over the size limit")

// ErrStatus is what Get returns, wrapped, for an answer that is not 200 OK.
var ErrStatus = errors.New("status")

// Get sends req with client and hands the answer's body to decode as a
// stream, never more than max bytes of it: past that the reader fails
// with ErrOversize, so decode fails and nothing larger is ever held. An
// answer other than 200 OK is an ErrStatus, its status text cut to a
// line's worth. Errors do not show the request's URL.
func Get(ctx context.Context, client *http.Client, req *http.Request, max int64, decode func(io.Reader) error) error {
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap() // *url.Error names the URL, credentials and all
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("no answer within the poll's time out: %w", err)
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		status := resp.Status
		if len(status) > 80 {
			status = status[:80] + "..."
		}
		return &StatusError{Code: resp.StatusCode, Status: status}
	}
	body := &limited{r: resp.Body, left: max}
	if err := decode(body); err != nil {
		switch {
		case body.over:
			return fmt.Errorf("%w (%d bytes)", ErrOversize, max)
		case ctx.Err() != nil:
			// The connection closed under the decoder says less.
			return fmt.Errorf("no complete answer within the poll's time out (%d bytes read): %w", max-body.left, ctx.Err())
		}
		return err
	}
	return nil
}

// limited reads at most left bytes, then fails.
type limited struct {
	r    io.Reader
	left int64
	over bool
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more tells an answer of exactly max bytes from a
		// longer one.
		var b [1]byte
		if n, _ := l.r.Read(b[:]); n > 0 {
			l.over = true
			return 0, ErrOversize
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// Delta is the one rule for the count since the previous poll of a
// cumulative counter: a counter that went backwards was reset (a broker or
// service restart), and what it counted since is its value.
func Delta(now, before float64) float64 {
	if now < before {
		return now
	}
	return now - before
}
