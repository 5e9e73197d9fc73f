package hubmon

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

func frame(flags byte, body []byte) []byte {
	if len(body) > 255 {
		return append(binary.BigEndian.AppendUint64([]byte{flags | flagLong}, uint64(len(body))), body...)
	}
	return append([]byte{flags, byte(len(body))}, body...)
}

// TestFrameScanner feeds streams in pieces of every size and checks which
// are refused.
func TestFrameScanner(t *testing.T) {
	const max = 1000
	big := make([]byte, 600)
	ok := [][]byte{
		testhub.Ready("PUB"),
		frame(0, []byte(`{"consumers": []}`)),
		frame(0, make([]byte, max)), // exactly the limit
		frame(flagMore, []byte("topic")),
		frame(0, make([]byte, max-5)), // message exactly the limit
		frame(0, nil),
	}
	tests := []struct {
		name  string
		tail  []byte
		size  uint64
		allow bool
	}{
		{"normal traffic", nil, 0, true},
		{"4 GiB frame", testhub.LongFrameHeader(4 << 30), 4 << 30, false},
		{"2^62 frame", testhub.LongFrameHeader(1 << 62), 1 << 62, false},
		{"2^64-1 frame", testhub.LongFrameHeader(^uint64(0)), ^uint64(0), false},
		{"one over, long form", frame(0, make([]byte, max+1)), max + 1, false},
		{"frames adding up over the limit", append(frame(flagMore, big), frame(0, big)...), 600, false},
		{"data frame over the limit, command flag", frame(0x04, make([]byte, max+1)), max + 1, false},
	}
	for _, tt := range tests {
		stream := testhub.Greeting()
		for _, f := range ok {
			stream = append(stream, f...)
		}
		stream = append(stream, tt.tail...)
		for piece := 1; piece <= len(stream); piece = piece*2 + 1 {
			s := frameScanner{max: max}
			var size uint64
			allowed := true
			for b := stream; len(b) > 0 && allowed; {
				n := min(piece, len(b))
				if err := s.feed(b[:n]); err != nil {
					var o oversizeError
					if !errors.As(err, &o) {
						t.Fatalf("%s: %v, not an oversize error", tt.name, err)
					}
					size, allowed = o.Size, false
				}
				b = b[n:]
			}
			if allowed != tt.allow || (!allowed && size != tt.size) {
				t.Errorf("%s in pieces of %d: allowed %v (size %d), want %v (size %d)", tt.name, piece, allowed, size, tt.allow, tt.size)
			}
		}
	}
}

// TestWatchOversize: a peer announcing a huge frame is disconnected and
// counted, again on every reconnect, and the watcher stays responsive.
func TestWatchOversize(t *testing.T) {
	for name, size := range map[string]uint64{"4GiB": 4 << 30, "2^62": 1 << 62} {
		t.Run(name, func(t *testing.T) {
			peer := testhub.StartFakePeer(t, func(w io.Writer) {
				w.Write(testhub.LongFrameHeader(size))
				chunk := make([]byte, 64<<10)
				for range 1024 { // up to 64 MiB of body, until disconnected
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			})
			st := new(Stats)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				Watch(ctx, model.Endpoint{Service: "fedmsg-evil", Addr: peer.Addr}, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, st, func(model.Message) {
					t.Error("delivered a snapshot")
				})
			}()
			deadline := time.Now().Add(10 * time.Second)
			for st.Oversize.Load() < 3 {
				if time.Now().After(deadline) {
					t.Fatalf("oversize count %d after 10s, want 3 (one per reconnect)", st.Oversize.Load())
				}
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			select {
			case <-done:
			case <-time.After(2 * time.Second):
				t.Fatal("Watch did not return within 2s of cancel")
			}
		})
	}
}

// connPair returns the two ends of a connection of the kind named: an
// in-memory net.Pipe, or a unix or TCP socket on this machine, which
// limitConn reads with raw system calls (rawReader).
func connPair(t *testing.T, kind string) (client, server net.Conn) {
	t.Helper()
	if kind == "pipe" {
		return net.Pipe()
	}
	addr := "127.0.0.1:0"
	if kind == "unix" {
		addr = t.TempDir() + "/s"
	}
	l, err := net.Listen(kind, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	client, err = net.Dial(kind, l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	return client, server
}

var connKinds = []string{"pipe", "unix", "tcp"}

// TestLimitConnReadAhead: whatever the sizes of the reads and of the
// pieces the peer writes, the bytes come through whole and in order, and
// an oversize frame still fails the read; over an in-memory pipe, and
// over unix and TCP sockets.
func TestLimitConnReadAhead(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	stream := append(testhub.Greeting(), testhub.Ready("PUB")...)
	for i := range 300 {
		body := make([]byte, rng.IntN(3*readAhead))
		for j := range body {
			body[j] = byte(i + j)
		}
		stream = append(stream, frame(0, body)...)
	}
	for _, kind := range connKinds {
		for _, tail := range [][]byte{nil, testhub.LongFrameHeader(1 << 40)} {
			client, server := connPair(t, kind)
			wrng := rand.New(rand.NewPCG(15, 16)) // the writer's own: rand.Rand is not safe for concurrent use
			go func() {
				all := append(slices.Clone(stream), tail...)
				for len(all) > 0 {
					n := min(1+wrng.IntN(2*readAhead), len(all))
					if _, err := server.Write(all[:n]); err != nil {
						return
					}
					all = all[n:]
				}
				server.Close()
			}()
			c := newLimitConn(client, 1<<20, nil)
			var got []byte
			var err error
			for err == nil {
				p := make([]byte, []int{1, 2, 7, 100, readAhead - 1, readAhead, 3 * readAhead}[rng.IntN(7)])
				var n int
				n, err = c.Read(p)
				got = append(got, p[:n]...)
			}
			if tail == nil {
				if err != io.EOF || !bytes.Equal(got, stream) {
					t.Errorf("%s: read %d of %d bytes, equal %v, then %v", kind, len(got), len(stream), bytes.Equal(got, stream[:min(len(got), len(stream))]), err)
				}
			} else if !errors.Is(err, errOversize) || len(got) > len(stream) || !bytes.Equal(got, stream[:len(got)]) {
				t.Errorf("%s: with an oversize frame: read %d bytes of %d, a prefix %v, then %v", kind, len(got), len(stream),
					bytes.Equal(got, stream[:min(len(got), len(stream))]), err)
			}
			client.Close()
			server.Close()
		}
	}
}

// enteringConn closes entered when Read is first called.
type enteringConn struct {
	net.Conn
	entered chan struct{}
}

func (c enteringConn) Read(p []byte) (int, error) {
	select {
	case <-c.entered:
	default:
		close(c.entered)
	}
	return c.Conn.Read(p)
}

// TestLimitConnCloseUnblocks: closing a connection frees a read blocked
// on it, and a deadline ends one, as the session's clean-up and zmq4's
// handshake rely on.
func TestLimitConnCloseUnblocks(t *testing.T) {
	for _, kind := range connKinds {
		client, server := connPair(t, kind)
		entered := make(chan struct{})
		c := newLimitConn(enteringConn{client, entered}, 1<<20, nil)
		errc := make(chan error, 1)
		go func() {
			_, err := c.Read(make([]byte, 100))
			errc <- err
		}()
		<-entered // the read is under way: nothing to read, it waits
		c.Close()
		select {
		case err := <-errc:
			want := net.ErrClosed
			if kind == "pipe" {
				want = io.ErrClosedPipe
			}
			if !errors.Is(err, want) {
				t.Errorf("%s: read after close: %v, want %v", kind, err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: read still blocked 5s after close", kind)
		}
		server.Close()

		client, server = connPair(t, kind)
		c = newLimitConn(client, 1<<20, nil)
		c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		if _, err := c.Read(make([]byte, 100)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("%s: read past the deadline: %v, want os.ErrDeadlineExceeded", kind, err)
		}
		c.Close()
		server.Close()
	}
}
