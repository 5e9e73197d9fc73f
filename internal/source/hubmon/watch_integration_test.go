package hubmon

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// watchInto runs Watch on ep until the test ends and returns the channel
// of delivered messages and the log.
func watchInto(t *testing.T, ep model.Endpoint, opt Options) (<-chan model.Message, *testhub.Buffer, *Stats) {
	t.Helper()
	logs := new(testhub.Buffer)
	opt.Logger = slog.New(slog.NewTextHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	snaps := make(chan model.Message, 100)
	done := make(chan struct{})
	st := new(Stats)
	go func() {
		defer close(done)
		Watch(ctx, ep, opt, st, func(s model.Message) {
			select {
			case snaps <- s:
			default:
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Error("Watch did not return within 3s of cancel")
		}
	})
	return snaps, logs, st
}

// next returns the next message, decoded, with its arrival, period and
// session.
func next(t *testing.T, snaps <-chan model.Message, within time.Duration) model.Snapshot {
	t.Helper()
	select {
	case m := <-snaps:
		s, err := model.Decode(m.Raw, m.Arrival)
		if err != nil {
			t.Fatal(err)
		}
		s.Period, s.Session = m.Period, m.Session
		return s
	case <-time.After(within):
		t.Fatalf("no snapshot within %v", within)
	}
	return model.Snapshot{}
}

func decodeFile(t *testing.T, f string) model.Snapshot {
	t.Helper()
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	s, err := model.Decode(data, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestWatchIntegration reads a real libzmq publisher over ipc (three and
// four slashes) and tcp and gets the published captures, in order.
func TestWatchIntegration(t *testing.T) {
	t.Parallel()
	testhub.Integration(t)
	dir := t.TempDir()
	files := []string{"../../model/testdata/ipc-01.json", "../../model/testdata/ipc-06.json", "../../model/testdata/ipc-12.json"}
	for name, bind := range map[string]string{
		"ipc":       "ipc://" + filepath.Join(dir, "monitoring-fedmsg-hub.socket"),
		"ipc4slash": "ipc:///" + filepath.Join(dir, "monitoring-moksha-hub.socket"),
		"tcp":       "tcp://127.0.0.1:*",
	} {
		t.Run(name, func(t *testing.T) {
			hub := testhub.Start(t, bind, 100*time.Millisecond, files...)
			ep, err := ParseEndpoint(bind)
			if name == "tcp" {
				ep, err = ParseEndpoint(hub.Endpoint)
			}
			if err != nil {
				t.Fatal(err)
			}
			snaps, logs, st := watchInto(t, ep, Options{})
			first := next(t, snaps, 10*time.Second)
			// The subscriber joins at any point of the rotation; find it.
			start := -1
			for i, f := range files {
				if cmp.Equal(decodeFile(t, f).Consumers, first.Consumers) {
					start = i
				}
			}
			if start < 0 {
				t.Fatalf("first snapshot matches no published file: %+v", first.Consumers[0])
			}
			prev := first
			for i := 1; i <= 12; i++ {
				s := next(t, snaps, 5*time.Second)
				want := decodeFile(t, files[(start+i)%len(files)])
				if d := cmp.Diff(want, s, cmpopts.IgnoreFields(model.Snapshot{}, "Arrival", "Period", "Session")); d != "" {
					t.Fatalf("snapshot %d (-want +got):\n%s", i, d)
				}
				if !s.Arrival.After(prev.Arrival) {
					t.Errorf("arrival %v not after %v", s.Arrival, prev.Arrival)
				}
				prev = s
			}
			if prev.Period < 50*time.Millisecond || prev.Period > 200*time.Millisecond {
				t.Errorf("period estimate %v, publisher sends every 100ms", prev.Period)
			}
			if st.Sessions.Load() != 1 || st.Messages.Load() < 13 {
				t.Errorf("sessions %d, messages %d", st.Sessions.Load(), st.Messages.Load())
			}
			if logs.String() != "" {
				t.Errorf("logged: %s", logs)
			}
		})
	}
}

// TestWatchLateHubIntegration: a hub that starts after the plugin, and a
// stale ipc file of a stopped hub, are waited for quietly.
func TestWatchLateHubIntegration(t *testing.T) {
	t.Parallel()
	testhub.Integration(t)
	path := filepath.Join(t.TempDir(), "monitoring-fedmsg-hub.socket")
	ep := model.Endpoint{Service: "fedmsg-hub", Addr: "ipc://" + path}
	snaps, logs, _ := watchInto(t, ep, Options{})
	time.Sleep(1 * time.Second) // several dial attempts against no file
	hub := testhub.Start(t, ep.Addr, 100*time.Millisecond, "../../model/testdata/ipc-12.json")
	next(t, snaps, 5*time.Second)
	hub.Kill() // leaves the ipc file behind: connection refused from now on
	for len(snaps) > 0 {
		<-snaps
	}
	time.Sleep(1 * time.Second)
	testhub.Start(t, ep.Addr, 100*time.Millisecond, "../../model/testdata/ipc-12.json")
	next(t, snaps, 5*time.Second)
	if logs.String() != "" {
		t.Errorf("waiting for a hub logged: %s", logs)
	}
}

// TestWatchSilentPeerIntegration: a peer that accepts and never speaks can
// neither hang Watch nor stop it from returning when cancelled.
func TestWatchSilentPeerIntegration(t *testing.T) {
	t.Parallel()
	testhub.Integration(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	ep := model.Endpoint{Service: "fedmsg-silent", Addr: "tcp://" + ln.Addr().String()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Watch(ctx, ep, Options{DialTimeout: 200 * time.Millisecond, HandshakeTimeout: 200 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(new(testhub.Buffer), nil))}, nil, func(model.Message) {})
	}()
	// Two connections: the first handshake was abandoned and retried.
	for i := range 2 {
		select {
		case c := <-accepted:
			defer c.Close()
		case <-time.After(5 * time.Second):
			t.Fatalf("connection %d not made: the first handshake hangs", i+1)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Watch did not return within 2s of cancel while a handshake was pending")
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// TestMalformedIntegration: a hub alternating garbage, a snapshot with a
// NaN in one consumer and a good snapshot: every message is delivered as
// it came, in order, counted, and nothing is logged (decoding, and
// complaining about it, is the pipeline's).
func TestMalformedIntegration(t *testing.T) {
	t.Parallel()
	testhub.Integration(t)
	files := []string{"../../model/testdata/hostile/garbage.txt", "../../model/testdata/hostile/nan.json", "../../model/testdata/ipc-12.json"}
	hub := testhub.Start(t, "tcp://127.0.0.1:*", 20*time.Millisecond, files...)
	msgs, logs, st := watchInto(t, model.Endpoint{Service: "fedmsg-hub", Addr: hub.Endpoint}, Options{})
	var want [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, bytes.TrimRight(data, "\n"))
	}
	seen := make([]int, len(files))
	prev := -1
	for got := 0; got < 15; got++ {
		var m model.Message
		select {
		case m = <-msgs:
		case <-time.After(5 * time.Second):
			t.Fatal("no message within 5s")
		}
		i := slices.IndexFunc(want, func(w []byte) bool { return bytes.Equal(bytes.TrimRight(m.Raw, "\n"), w) })
		if i < 0 {
			t.Fatalf("delivered %q, none of the files", m.Raw[:min(len(m.Raw), 40)])
		}
		if prev >= 0 && i != (prev+1)%len(files) {
			t.Errorf("file %d after file %d: out of order", i, prev)
		}
		prev = i
		seen[i]++
	}
	if n := st.Messages.Load(); n < 15 {
		t.Errorf("%d messages counted, want at least 15", n)
	}
	if logs.String() != "" {
		t.Errorf("logged:\n%s", logs)
	}
}
