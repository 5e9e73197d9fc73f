package hubmon

import (
	"net"
	"sync"
)

// DefaultMaxMessage is the largest monitoring message accepted by default.
// Real ones are 1.5 KB to 60 KB; the largest plausible (hundreds of
// consumers with 1024 durations each) stay well under it.
const DefaultMaxMessage = 4 << 20

// limitConn guards zmq4 from what the peer sends: it follows the ZMTP
// stream that flows through Read (frameScanner) and fails the read that
// would hand zmq4 a frame header announcing more than max bytes (for the
// frame, or for the message its frames add up to: zmq4 allocates whatever
// length the wire announces) or a handshake that is not a publisher's
// (zmq4 panics on some), before zmq4 sees it. The connection is then
// closed: there is no resynchronizing a ZMTP stream.
//
// It also reads ahead: zmq4 reads each frame's flags, size and body in
// separate calls, and small ones are served from one read of up to
// readAhead bytes, saving system calls (a small message takes one read
// instead of three).
type limitConn struct {
	net.Conn
	// reject is told why the connection is dropped: an error wrapping
	// errOversize or errHandshake.
	reject func(error)

	mu    sync.Mutex
	scan  frameScanner
	fail  error
	close sync.Once

	ahead []byte // read from the connection, not yet returned; only Read uses it
	buf   []byte // ahead's storage, allocated at the first small read
}

// readAhead is the size of a limitConn's read-ahead buffer: a small
// message and the header of a large one.
const readAhead = 4096

func newLimitConn(c net.Conn, max uint64, reject func(error)) *limitConn {
	return &limitConn{Conn: c, reject: reject, scan: frameScanner{max: max}}
}

// Read implements net.Conn. It is called by one goroutine at a time.
func (c *limitConn) Read(p []byte) (int, error) {
	if len(c.ahead) > 0 {
		n := copy(p, c.ahead)
		c.ahead = c.ahead[n:]
		return n, nil
	}
	if len(p) >= readAhead {
		return c.read(p)
	}
	if c.buf == nil {
		c.buf = make([]byte, readAhead)
	}
	n, err := c.read(c.buf)
	c.ahead = c.buf[:n]
	m := copy(p, c.ahead)
	c.ahead = c.ahead[m:]
	if len(c.ahead) > 0 {
		err = nil // reported by the next read that finds nothing ahead
	}
	return m, err
}

// read reads from the connection into p, checking what it reads.
func (c *limitConn) read(p []byte) (int, error) {
	c.mu.Lock()
	if c.fail != nil {
		c.mu.Unlock()
		return 0, c.fail
	}
	c.mu.Unlock()
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if ferr := c.scan.feed(p[:n]); ferr != nil {
		c.fail = ferr
		if c.reject != nil {
			c.reject(ferr)
		}
		c.close.Do(func() { c.Conn.Close() })
		return 0, c.fail
	}
	return n, err
}
