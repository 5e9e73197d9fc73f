package hubmon

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// watchInto runs Watch on ep until the test ends and returns the channel
// of delivered snapshots and the log.
func watchInto(t *testing.T, ep Endpoint, opt Options) (<-chan Snapshot, *testhub.Buffer, *Stats) {
	t.Helper()
	logs := new(testhub.Buffer)
	opt.Logger = slog.New(slog.NewTextHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	snaps := make(chan Snapshot, 100)
	done := make(chan struct{})
	st := new(Stats)
	go func() {
		defer close(done)
		Watch(ctx, ep, opt, st, func(s Snapshot) {
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

func next(t *testing.T, snaps <-chan Snapshot, within time.Duration) Snapshot {
	t.Helper()
	select {
	case s := <-snaps:
		return s
	case <-time.After(within):
		t.Fatalf("no snapshot within %v", within)
	}
	return Snapshot{}
}

func decodeFile(t *testing.T, f string) Snapshot {
	t.Helper()
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Decode(data, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestWatchIntegration reads a real libzmq publisher over ipc (three and
// four slashes) and tcp and gets the published captures, in order.
func TestWatchIntegration(t *testing.T) {
	testhub.Integration(t)
	dir := t.TempDir()
	files := []string{"testdata/ipc-01.json", "testdata/ipc-06.json", "testdata/ipc-12.json"}
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
				if d := cmp.Diff(want, s, cmpopts.IgnoreFields(Snapshot{}, "Arrival", "Period", "Session")); d != "" {
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
			if st.Sessions.Load() != 1 || st.DecodeErrors.Load() != 0 {
				t.Errorf("sessions %d, decode errors %d", st.Sessions.Load(), st.DecodeErrors.Load())
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
	testhub.Integration(t)
	path := filepath.Join(t.TempDir(), "monitoring-fedmsg-hub.socket")
	ep := Endpoint{Service: "fedmsg-hub", Addr: "ipc://" + path}
	snaps, logs, _ := watchInto(t, ep, Options{})
	time.Sleep(1 * time.Second) // several dial attempts against no file
	hub := testhub.Start(t, ep.Addr, 100*time.Millisecond, "testdata/ipc-12.json")
	next(t, snaps, 5*time.Second)
	hub.Kill() // leaves the ipc file behind: connection refused from now on
	for len(snaps) > 0 {
		<-snaps
	}
	time.Sleep(1 * time.Second)
	testhub.Start(t, ep.Addr, 100*time.Millisecond, "testdata/ipc-12.json")
	next(t, snaps, 5*time.Second)
	if logs.String() != "" {
		t.Errorf("waiting for a hub logged: %s", logs)
	}
}

// TestWatchSilentPeerIntegration: a peer that accepts and never speaks can
// neither hang Watch nor stop it from returning when cancelled.
func TestWatchSilentPeerIntegration(t *testing.T) {
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
	ep := Endpoint{Service: "fedmsg-silent", Addr: "tcp://" + ln.Addr().String()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Watch(ctx, ep, Options{DialTimeout: 200 * time.Millisecond, HandshakeTimeout: 200 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(new(testhub.Buffer), nil))}, nil, func(Snapshot) {})
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
// NaN in one consumer and a good snapshot: the good data is delivered, the
// bad counted, and the log has one line for the minute.
func TestMalformedIntegration(t *testing.T) {
	testhub.Integration(t)
	hub := testhub.Start(t, "tcp://127.0.0.1:*", 20*time.Millisecond,
		"testdata/hostile/garbage.txt", "testdata/hostile/nan.json", "testdata/ipc-12.json")
	snaps, logs, st := watchInto(t, Endpoint{"fedmsg-hub", hub.Endpoint}, Options{})
	full, partial := 0, 0
	for full < 5 || partial < 5 {
		s := next(t, snaps, 5*time.Second)
		switch {
		case len(s.Consumers) == 4 && s.Skipped == 0:
			full++
		case len(s.Consumers) == 3 && s.Skipped == 1:
			partial++
		default:
			t.Fatalf("snapshot with %d consumers, %d skipped", len(s.Consumers), s.Skipped)
		}
	}
	if st.DecodeErrors.Load() < 4 || st.Skipped.Load() < 5 {
		t.Errorf("decode errors %d, skipped entries %d", st.DecodeErrors.Load(), st.Skipped.Load())
	}
	if n := strings.Count(logs.String(), "\n"); n != 1 {
		t.Errorf("%d log lines, want 1 (at most one a minute):\n%s", n, logs)
	}
}
