package testhub

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
)

// Greeting is a ZMTP 3.0 greeting for the NULL mechanism, as a client
// (as-server 0) sends it.
func Greeting() []byte {
	g := make([]byte, 64)
	g[0], g[9], g[10], g[11] = 0xFF, 0x7F, 3, 0
	copy(g[12:32], "NULL")
	return g
}

// Ready is the NULL mechanism's READY command announcing socket type typ.
func Ready(typ string) []byte {
	return ReadyWith("Socket-Type", typ)
}

// ReadyWith is a READY command with the properties given as name, value
// pairs, in order.
func ReadyWith(props ...string) []byte {
	body := []byte{5}
	body = append(body, "READY"...)
	for i := 0; i+1 < len(props); i += 2 {
		body = append(body, byte(len(props[i])))
		body = append(body, props[i]...)
		body = binary.BigEndian.AppendUint32(body, uint32(len(props[i+1])))
		body = append(body, props[i+1]...)
	}
	return append([]byte{0x04, byte(len(body))}, body...)
}

// LongFrameHeader is the header of a ZMTP frame announcing size bytes.
func LongFrameHeader(size uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{0x02}, size)
}

// FakePeer is a hand-written ZMTP publisher on loopback: it completes the
// handshake as a PUB, ignores what the subscriber sends, and then writes
// whatever Script writes, so tests can send what no real publisher would.
type FakePeer struct {
	// Addr is the endpoint to dial, tcp://127.0.0.1:PORT.
	Addr string
	ln   net.Listener
	wg   sync.WaitGroup
	// Accepted receives one value per handshake completed.
	Accepted chan struct{}
}

// StartFakePeer listens on a free loopback port; every connection gets the
// handshake and then script(conn). It is closed when the test ends.
func StartFakePeer(t testing.TB, script func(w io.Writer)) *FakePeer {
	return StartPeer(t, append(Greeting(), Ready("PUB")...), script)
}

// StartPeer is StartFakePeer with the handshake bytes given: a greeting and
// a READY command of the test's choosing.
func StartPeer(t testing.TB, handshake []byte, script func(w io.Writer)) *FakePeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &FakePeer{Addr: "tcp://" + ln.Addr().String(), ln: ln, Accepted: make(chan struct{}, 100)}
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer c.Close()
				go io.Copy(io.Discard, c)
				if _, err := c.Write(handshake); err != nil {
					return
				}
				select {
				case p.Accepted <- struct{}{}:
				default:
				}
				script(c)
			}()
		}
	}()
	return p
}
