package zabbix

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/ratelog"
)

// Sender pushes a sink's values to a server. Set its fields, then Run.
type Sender struct {
	// Server is host:port of the Zabbix server or proxy (port 10051).
	Server string
	// TLS, when set, is the client side of TLSConnect=cert.
	TLS *tls.Config
	// Interval is how long after a failed push it tries again; Timeout
	// bounds each request (default Interval, at most 10 s).
	Interval, Timeout time.Duration
	// Batch is the most values a request carries (default 5000: about
	// 700 KB).
	Batch int
	// Gather is how often the values gathered go, in one request
	// (default Interval): a request, and a wake-up, cost more than the
	// values (BenchmarkZabbixBufferIntegration).
	Gather time.Duration
	// Logger takes the errors, at most one a minute of each kind.
	Logger *slog.Logger
	// Now reads the clock for the requests' own time, default time.Now.
	Now func() time.Time

	down, refused ratelog.Limiter
	downWhy       string // the reason of the push failure logged last
	buf           []byte // the request being written, kept from one to the next
}

// Run sends the sink's values whenever it has some, until ctx ends. A
// server that cannot be reached or answers wrong keeps them queued; it is
// tried again every Interval.
func (c *Sender) Run(ctx context.Context, s *Sink) {
	if c.Timeout <= 0 {
		c.Timeout = min(c.Interval, 10*time.Second)
	}
	if c.Batch <= 0 {
		c.Batch = 5000
	}
	if c.Gather <= 0 {
		c.Gather = c.Interval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	// It wakes every Gather and sends what has come, in one request:
	// nothing wakes it between (a wake-up per snapshot cost more than
	// the snapshot's values). After a failure, it tries again once
	// Interval has passed.
	t := time.NewTicker(c.Gather)
	defer t.Stop()
	var down time.Time // when the last push failed; zero while they pass
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if !down.IsZero() && now.Sub(down) < c.Interval-c.Gather/2 {
				continue
			}
		}
		down = time.Time{}
		for ctx.Err() == nil {
			// The header's 13 bytes first, filled by send.
			now := time.Now()
			if c.Now != nil {
				now = c.Now()
			}
			var n int
			var first int64
			var firstKey string
			c.buf, n, first, firstKey = s.request(append(c.buf[:0], make([]byte, 13)...), c.Batch, now.Unix(), int64(now.Nanosecond()))
			if n == 0 {
				break
			}
			failed, err := c.send(ctx, n)
			if err != nil {
				// Once a minute for one reason; at once for another.
				if why := err.Error(); ctx.Err() == nil && (why != c.downWhy || c.down.Allow(time.Now())) {
					c.down.Mark(time.Now())
					c.downWhy = why
					_, _, queued := s.Counts()
					c.Logger.Warn("cannot push to the Zabbix server: values kept", "server", c.Server, "err", err, "queued", queued)
				}
				down = time.Now()
				break // again after Interval
			}
			s.done(first, n, failed)
			if failed > 0 && c.refused.Allow(time.Now()) {
				// Some taken and some failed, soon after new rows: items
				// not made yet. All failed: no host, no template, or
				// refused (TLS), whenever it is.
				if ago, fresh := s.discovered(time.Now()); fresh && failed < n {
					c.Logger.Info("the Zabbix server failed values of items it has not made yet: the discovery of new consumers "+
						"went "+ago.Round(time.Second).String()+" ago, and the server makes their items within its CacheUpdateFrequency "+
						"(60 s by default); their values until then are lost. Expected at start and when consumers appear",
						"server", c.Server, "failed", failed, "of", n)
					continue
				}
				c.Logger.Warn("the Zabbix server failed values: items it does not have (is the template linked to the host, and have its discovery rules run?) or values it refused",
					"server", c.Server, "failed", failed, "of", n, "first_key", firstKey)
			}
		}
	}
}

// send makes the request in c.buf of n values of the server, and returns
// how many of them it failed.
func (c *Sender) send(ctx context.Context, n int) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.Server)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	if c.TLS != nil {
		tc := tls.Client(conn, c.TLS)
		if err := tc.HandshakeContext(ctx); err != nil {
			return 0, fmt.Errorf("TLS: %w", err)
		}
		conn = tc
	}
	copy(c.buf, "ZBXD")
	c.buf[4] = flagProtocol
	binary.LittleEndian.PutUint32(c.buf[5:], uint32(len(c.buf)-13))
	binary.LittleEndian.PutUint32(c.buf[9:], 0)
	if _, err := conn.Write(c.buf); err != nil {
		return 0, err
	}
	answer, err := readFrame(conn, maxAnswer)
	if err != nil {
		return 0, err
	}
	return parseAnswer(answer, n)
}

// Beside runs pipe (which feeds s) while the sender sends s's values,
// until pipe returns; then the sender stops.
func (c *Sender) Beside(ctx context.Context, s *Sink, pipe func(context.Context) error) error {
	sctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { c.Run(sctx, s); close(done) }()
	err := pipe(ctx)
	stop()
	<-done
	return err
}
