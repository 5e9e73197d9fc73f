package hubmon

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/transport"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// handshakes are peers' opening bytes: the ones zmq4 v0.17.0 panics on, or
// would act on, and the ones a publisher sends.
func handshakes() []struct {
	name string
	data []byte
	ok   bool
} {
	g := testhub.Greeting()
	with := func(i int, b byte) []byte {
		c := append([]byte(nil), g...)
		c[i] = b
		return c
	}
	plain := append([]byte(nil), g...)
	copy(plain[12:32], "PLAIN")
	cmd := func(body ...byte) []byte { return append([]byte{0x04, byte(len(body))}, body...) }
	return []struct {
		name string
		data []byte
		ok   bool
	}{
		{"PUB", append(g, testhub.Ready("PUB")...), true},
		{"XPUB with an identity", append(g, testhub.ReadyWith("Identity", "", "Socket-Type", "XPUB")...), true},
		{"lower-case key", append(g, testhub.ReadyWith("socket-type", "PUB")...), true},
		{"Socket-Type FOO", append(g, testhub.Ready("FOO")...), false},
		{"Socket-Type RADIO", append(g, testhub.Ready("RADIO")...), false},
		{"Socket-Type pub", append(g, testhub.Ready("pub")...), false},
		{"Socket-Type SUB", append(g, testhub.Ready("SUB")...), false},
		{"Socket-Type empty", append(g, testhub.Ready("")...), false},
		{"no Socket-Type", append(g, testhub.ReadyWith("Identity", "x")...), false},
		{"upper-case key zmq4 does not find", append(g, testhub.ReadyWith("SOCKET-TYPE", "PUB")...), false},
		{"second Socket-Type FOO", append(g, testhub.ReadyWith("Socket-Type", "PUB", "socket-Type", "FOO")...), false},
		{"property name not ZMTP's", append(g, testhub.ReadyWith("Socket-Type", "PUB", "\xc5\xbfocket-type", "FOO")...), false},
		{"key length equal to what is left", append(g, cmd(5, 'R', 'E', 'A', 'D', 'Y', 3, 'a', 'b')...), false},
		{"value length cut short", append(g, cmd(5, 'R', 'E', 'A', 'D', 'Y', 1, 'a', 0, 0)...), false},
		{"value longer than the command", append(g, cmd(5, 'R', 'E', 'A', 'D', 'Y', 1, 'a', 0, 0, 0, 9, 'x')...), false},
		{"command name longer than the command", append(g, cmd(9, 'R', 'E', 'A', 'D', 'Y')...), false},
		{"empty command", append(g, cmd()...), false},
		{"ERROR instead of READY", append(g, cmd(5, 'E', 'R', 'R', 'O', 'R', 3, 'b', 'a', 'd')...), false},
		{"a message before READY", append(g, 0x00, 2, '{', '}'), false},
		{"READY with MORE", append(g, append([]byte{0x05}, testhub.Ready("PUB")[1:]...)...), false},
		{"command over 4 KiB", append(g, append([]byte{0x06, 0, 0, 0, 0, 0, 0, 0x10, 0x01}, make([]byte, 4097)...)...), false},
		{"no signature", append(with(0, 0x00), testhub.Ready("PUB")...), false},
		{"ZMTP 2", append(with(10, 2), testhub.Ready("PUB")...), false},
		{"mechanism PLAIN", append(plain, testhub.Ready("PUB")...), false},
		{"as-server 7", append(with(32, 7), testhub.Ready("PUB")...), false},
	}
}

// TestGuardHandshakes feeds each handshake in pieces of every size: a
// publisher's passes, the others are refused as handshakes.
func TestGuardHandshakes(t *testing.T) {
	for _, h := range handshakes() {
		stream := append(append([]byte(nil), h.data...), 0x00, 2, '{', '}') // then a message
		for piece := 1; piece <= len(stream); piece++ {
			s := frameScanner{max: 1 << 20}
			var err error
			for b := stream; len(b) > 0 && err == nil; {
				n := min(piece, len(b))
				err = s.feed(b[:n])
				b = b[n:]
			}
			if h.ok != (err == nil) || err != nil && !errors.Is(err, errHandshake) {
				t.Errorf("%s in pieces of %d: %v, want ok %v", h.name, piece, err, h.ok)
				break
			}
		}
	}
}

// The pipe transport hands zmq4 the client end of an in-memory connection
// whose peer end writes what a test gives it, through the guard.
const pipeScheme = "fedmsg-test-pipe"

var (
	pipeOnce sync.Once
	pipes    = make(chan net.Conn, 1)
)

type pipeTransport struct{}

func (pipeTransport) Dial(ctx context.Context, _ transport.Dialer, _ string) (net.Conn, error) {
	select {
	case c := <-pipes:
		context.AfterFunc(ctx, func() { c.Close() })
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (pipeTransport) Listen(context.Context, string) (net.Listener, error) {
	return nil, errors.New("no listening")
}

func (pipeTransport) Addr(ep string) (string, error) { return ep, nil }

// subThroughGuard runs a zmq4 SUB against a peer that writes handshake,
// then, once the SUB has subscribed, rest; through the guard, until the
// SUB fails or deadline passes. It reports how many messages arrived and
// the guard's verdict.
func subThroughGuard(handshake, rest []byte, deadline time.Duration) (int, error) {
	pipeOnce.Do(func() {
		if err := zmq4.RegisterTransport(pipeScheme, pipeTransport{}); err != nil {
			panic(err)
		}
	})
	client, server := net.Pipe()
	var verdict error
	var mu sync.Mutex
	pipes <- newLimitConn(client, 64<<10, func(err error) { mu.Lock(); verdict = err; mu.Unlock() })
	go io.Copy(io.Discard, server)
	subscribed := make(chan struct{})
	go func() {
		defer server.Close()
		if _, err := server.Write(handshake); err != nil {
			return
		}
		select {
		case <-subscribed:
			server.Write(rest)
		case <-time.After(deadline):
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	sub := zmq4.NewSub(ctx, zmq4.WithDialerMaxRetries(0), zmq4.WithLogger(log.New(io.Discard, "", 0)))
	defer func() {
		// As a session does: zmq4's reader may be blocked handing over a
		// queued message; receive until it has given up.
		cancel()
		closed := make(chan struct{})
		go func() { sub.Close(); close(closed) }()
		for fails := 0; fails < drainFails; {
			if _, err := sub.Recv(); err != nil {
				fails++
			}
		}
		<-closed
	}()
	got := 0
	if err := sub.Dial(pipeScheme + "://peer"); err == nil {
		sub.SetOption(zmq4.OptionSubscribe, "")
		close(subscribed)
		for {
			if _, err := sub.Recv(); err != nil {
				break
			}
			got++
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return got, verdict
}

// TestGuardBeforeZmq4: each handshake through a real zmq4 SUB: none
// panics, the publishers' messages arrive, the others are refused.
func TestGuardBeforeZmq4(t *testing.T) {
	for _, h := range handshakes() {
		msg := append([]byte{0x00, 17}, `{"consumers": []}`...)
		got, verdict := subThroughGuard(h.data, msg, 2*time.Second)
		switch {
		case h.ok && (got != 1 || verdict != nil):
			t.Errorf("%s: %d messages, guard %v; want 1, none", h.name, got, verdict)
		case !h.ok && (got != 0 || !errors.Is(verdict, errHandshake)):
			t.Errorf("%s: %d messages, guard %v; want none, refused", h.name, got, verdict)
		}
	}
}

// FuzzGuard drives a zmq4 SUB through the guard with arbitrary peer bytes:
// greetings, commands and frames. A panic anywhere in zmq4 fails it; the
// guard's 64 KiB limit bounds what zmq4 allocates.
func FuzzGuard(f *testing.F) {
	for _, h := range handshakes() {
		f.Add(h.data, []byte{})
		f.Add(h.data, []byte{0x01, 5, 't', 'o', 'p', 'i', 'c', 0x00, 2, '{', '}', 0x04, 5, 4, 'P', 'I', 'N', 'G'})
	}
	f.Add(append(testhub.Greeting(), testhub.Ready("PUB")...), testhub.LongFrameHeader(1<<62))
	f.Fuzz(func(t *testing.T, handshake, rest []byte) {
		got, verdict := subThroughGuard(handshake, rest, 50*time.Millisecond)
		if got > 0 && verdict != nil && errors.Is(verdict, errHandshake) {
			t.Fatalf("%d messages delivered through a refused handshake (%v)", got, verdict)
		}
	})
}
