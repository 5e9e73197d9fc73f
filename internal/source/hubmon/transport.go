package hubmon

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/transport"
)

// zmq4 dials through transports registered by URL scheme. We register our
// own schemes, wrapping the stock ipc and tcp transports, so that every
// connection we dial is closed as soon as its socket's context ends: zmq4
// cannot otherwise abandon a ZMTP handshake with a peer that accepted the
// connection and never speaks (see the zmq4 notes in the README).
const (
	ipcScheme = "fedmsg+ipc"
	tcpScheme = "fedmsg+tcp"
)

var registerOnce sync.Once

func registerTransports() {
	registerOnce.Do(func() {
		for scheme, network := range map[string]string{ipcScheme: "unix", tcpScheme: "tcp"} {
			if err := zmq4.RegisterTransport(scheme, closingTransport{transport.New(network)}); err != nil {
				panic(fmt.Sprintf("register zmq4 transport %s: %v", scheme, err))
			}
		}
	})
}

// dialAddr maps an ipc:// or tcp:// endpoint to the same address under our
// wrapping schemes.
func dialAddr(ep string) (string, error) {
	if _, _, err := SplitAddr(ep); err != nil {
		return "", fmt.Errorf("endpoint %q: %w", ep, err)
	}
	_, rest, _ := strings.Cut(ep, "://")
	if strings.HasPrefix(ep, "ipc://") {
		return ipcScheme + "://" + rest, nil
	}
	return tcpScheme + "://" + rest, nil
}

// closingTransport dials with the wrapped transport and ties the connection's
// life to the context zmq4 passes in, which is the socket's own. When that
// context carries a limit (withLimit), the connection is guarded.
type closingTransport struct {
	transport.Transport
}

// Dial implements transport.Transport.
func (t closingTransport) Dial(ctx context.Context, d transport.Dialer, addr string) (net.Conn, error) {
	conn, err := t.Transport.Dial(ctx, d, addr)
	if err != nil {
		return nil, err
	}
	if l, ok := ctx.Value(limitKey{}).(limit); ok {
		conn = newLimitConn(conn, l.max, l.reject)
		if l.connected != nil {
			l.connected()
		}
	}
	context.AfterFunc(ctx, func() { conn.Close() })
	return conn, nil
}

type limitKey struct{}

// limit is what a session asks of the connections it dials.
type limit struct {
	max       uint64
	reject    func(error)
	connected func() // called once the connection is made
}

// withLimit returns a context whose dialled connections are guarded
// (limitConn): frames and messages over max bytes and handshakes that are
// not a publisher's are refused, and reject is told why; connected is
// called when the connection is made, before the handshake.
func withLimit(ctx context.Context, max uint64, reject func(error), connected func()) context.Context {
	return context.WithValue(ctx, limitKey{}, limit{max, reject, connected})
}
