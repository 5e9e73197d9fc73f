package hubmon

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
)

// DefaultMaxMessage is the largest monitoring message accepted by default.
// Real ones are 1.5 KB to 60 KB; the largest plausible (hundreds of
// consumers with 1024 durations each) stay well under it.
const DefaultMaxMessage = 4 << 20

// zmtpGreeting is the length of a ZMTP 3.x greeting, read before the first
// frame.
const zmtpGreeting = 64

// ZMTP frame flags.
const (
	flagMore = 0x01
	flagLong = 0x02
)

// errOversize is returned by a limitConn read that would let zmq4 allocate
// more than the limit.
var errOversize = errors.New("message over the size limit")

// limitConn watches the ZMTP frame headers that flow through Read and
// fails the read that carries a frame header announcing more than max
// bytes (for the frame, or for the message its frames add up to) before
// zmq4, which allocates whatever length the wire announces, sees it. The
// connection is then closed: there is no resynchronizing a ZMTP stream.
//
// It also reads ahead: zmq4 reads each frame's flags, size and body in
// separate calls, and small ones are served from one read of up to
// readAhead bytes, saving system calls (a small message takes one read
// instead of three).
type limitConn struct {
	net.Conn
	max      uint64
	oversize func(size uint64)

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

func newLimitConn(c net.Conn, max uint64, oversize func(uint64)) *limitConn {
	return &limitConn{Conn: c, max: max, oversize: oversize, scan: frameScanner{skip: zmtpGreeting}}
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

// read reads from the connection into p, checking the frame sizes.
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
	if size, ok := c.scan.feed(p[:n], c.max); !ok {
		c.fail = fmt.Errorf("zmtp frame of %d bytes: %w", size, errOversize)
		if c.oversize != nil {
			c.oversize(size)
		}
		c.close.Do(func() { c.Conn.Close() })
		return 0, c.fail
	}
	return n, err
}

// frameScanner follows the ZMTP 3 framing of a byte stream fed to it in
// pieces of any size: after the greeting, each frame is a flags byte, a
// size of one byte (or eight, big-endian, with flagLong) and a body.
type frameScanner struct {
	skip    uint64 // bytes of greeting or body still to pass over
	flags   byte
	inSize  bool // reading the size field
	size    [8]byte
	sizeLen int    // bytes of the size field read so far
	msg     uint64 // bytes of the current message's frames so far
}

// feed advances over b. It returns false, with the announced size, when a
// frame or the message it belongs to would exceed max.
func (s *frameScanner) feed(b []byte, max uint64) (uint64, bool) {
	for len(b) > 0 {
		switch {
		case s.skip > 0:
			n := min(s.skip, uint64(len(b)))
			s.skip -= n
			b = b[n:]
		case !s.inSize:
			s.flags = b[0]
			s.inSize, s.sizeLen = true, 0
			b = b[1:]
		default:
			want := 1
			if s.flags&flagLong != 0 {
				want = 8
			}
			n := copy(s.size[s.sizeLen:want], b)
			s.sizeLen += n
			b = b[n:]
			if s.sizeLen < want {
				continue
			}
			size := uint64(s.size[0])
			if want == 8 {
				size = binary.BigEndian.Uint64(s.size[:])
			}
			if size > max || s.msg+size > max {
				return size, false
			}
			s.msg += size
			if s.flags&flagMore == 0 {
				s.msg = 0
			}
			s.skip, s.inSize = size, false
		}
	}
	return 0, true
}
