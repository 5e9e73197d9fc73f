package hubmon

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// The restart tests publish every period and, like moksha, send the first
// message one period after starting. A restarted hub must be read again
// within one period of its first message (allowing slack for scheduling).
const (
	period = 2500 * time.Millisecond
	slack  = 500 * time.Millisecond
)

func hubConfig(ep string) testhub.Config {
	return testhub.Config{Endpoint: ep, Period: period, Delay: period, Files: []string{"../../model/testdata/ipc-12.json"}}
}

// drain empties snaps and returns the time the newest of them arrived.
func drain(snaps <-chan model.Message) {
	for {
		select {
		case <-snaps:
		default:
			return
		}
	}
}

// resumed waits for the first snapshot after start (when the new hub was
// bound), checks it within firstPublish+period+slack, and returns the
// delay after the hub's first publish.
func resumed(t *testing.T, snaps <-chan model.Message, start time.Time, bound time.Duration) {
	t.Helper()
	s := next(t, snaps, bound+5*time.Second)
	delay := s.Arrival.Sub(start)
	t.Logf("read again %v after the hub started or resumed (bound %v)", delay, bound)
	if delay > bound {
		t.Errorf("read again after %v, want within %v", delay, bound)
	}
}

// TestRestartIntegration kills, stops and restarts a real libzmq publisher
// in the ways a hub goes away, and checks that the subscriber reads it
// again within the bound each time, without a log line.
func TestRestartIntegration(t *testing.T) {
	t.Parallel()
	testhub.Integration(t)
	firstAndOne := period + period + slack // the first publish, plus one period
	scenarios := []struct {
		name string
		run  func(t *testing.T, ep string, snaps <-chan model.Message)
	}{
		{"started after the plugin", func(t *testing.T, ep string, snaps <-chan model.Message) {
			time.Sleep(time.Second)
			start := time.Now()
			testhub.Run(t, hubConfig(ep))
			resumed(t, snaps, start, firstAndOne)
		}},
		{"SIGKILL, back after 1s", restartAfter(syscall.SIGKILL, time.Second, firstAndOne)},
		{"SIGTERM, back after 1s", restartAfter(syscall.SIGTERM, time.Second, firstAndOne)},
		{"SIGKILL, back after 15s", restartAfter(syscall.SIGKILL, 15*time.Second, firstAndOne)},
		{"SIGSTOP for 12s, then SIGCONT", stopAndGoOn(12 * time.Second)},
		{"SIGSTOP for 20s, then SIGCONT", stopAndGoOn(20 * time.Second)},
		{"a peer that never speaks, replaced by a hub", func(t *testing.T, ep string, snaps <-chan model.Message) {
			path := strings.TrimPrefix(ep, "ipc://")
			ln, err := net.Listen("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() { // accept, and never speak
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					defer c.Close()
				}
			}()
			time.Sleep(time.Second) // the subscriber is stuck in its handshake
			os.Remove(path)
			start := time.Now()
			testhub.Run(t, hubConfig(ep)) // first publish one period later
			resumed(t, snaps, start, period+period+slack)
		}},
	}
	dir := t.TempDir()
	for i, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			ep := "ipc://" + filepath.Join(dir, "monitoring-hub"+string(rune('a'+i))+".socket")
			if sc.name == "SIGKILL, back after 1s" {
				ep = "tcp://127.0.0.1:" + freePort(t)
			}
			snaps, logs, _ := watchInto(t, model.Endpoint{Service: "fedmsg-hub", Addr: ep}, Options{})
			sc.run(t, ep, snaps)
			s := logs.String()
			if strings.HasPrefix(sc.name, "a peer that never speaks") {
				// Worth a line: a hub that accepts and never speaks is hung.
				if !strings.Contains(s, "no ZMTP handshake within 2s") {
					t.Errorf("logged: %q, want the handshake timeout", s)
				}
			} else if s != "" {
				t.Errorf("logged: %s", s)
			}
		})
	}
}

// stopAndGoOn is a scenario: the hub is stopped for down (past the idle
// limit, so a new session is tried beside the silent one), then goes on.
// Its next message must arrive within 0.5 s of SIGCONT on the session it
// had (its counters and the analytics' state go on).
func stopAndGoOn(down time.Duration) func(*testing.T, string, <-chan model.Message) {
	return func(t *testing.T, ep string, snaps <-chan model.Message) {
		h := testhub.Run(t, hubConfig(ep))
		before := next(t, snaps, 2*period+slack)
		// Stop it in the middle of its sleep between two publishes, as
		// a stopped hub would be: stopped between a send and the sleep
		// after it, it would sleep a whole period after SIGCONT.
		time.Sleep(period / 2)
		h.Signal(syscall.SIGSTOP)
		defer h.Signal(syscall.SIGCONT)
		time.Sleep(down)
		drain(snaps)
		start := time.Now()
		h.Signal(syscall.SIGCONT)
		after := next(t, snaps, period+slack)
		delay := after.Arrival.Sub(start)
		t.Logf("read again %v after SIGCONT; sessions %d then %d", delay, before.Session, after.Session)
		if delay > 500*time.Millisecond {
			t.Errorf("read again %v after SIGCONT, want within 0.5s", delay)
		}
		if after.Session != before.Session {
			t.Errorf("session %d after SIGCONT, want %d: the hub did not restart", after.Session, before.Session)
		}
	}
}

// restartAfter is a scenario: the hub runs, is stopped with sig, and a new
// one starts after down; it must be read within bound of starting.
func restartAfter(sig syscall.Signal, down, bound time.Duration) func(*testing.T, string, <-chan model.Message) {
	return func(t *testing.T, ep string, snaps <-chan model.Message) {
		h := testhub.Run(t, hubConfig(ep))
		next(t, snaps, 2*period+slack)
		h.Stop(sig)
		time.Sleep(down)
		drain(snaps)
		start := time.Now()
		testhub.Run(t, hubConfig(ep))
		resumed(t, snaps, start, bound)
	}
}

// TestSessionCyclesIntegration: 200 sessions against a busy publisher,
// each closed while zmq4's queue is full, leave no goroutine or file
// descriptor behind.
func TestSessionCyclesIntegration(t *testing.T) {
	// Not parallel: it counts the process' goroutines and descriptors,
	// which tests beside it would change.
	testhub.Integration(t)
	ep := "ipc://" + filepath.Join(t.TempDir(), "busy.socket")
	testhub.Run(t, testhub.Config{Endpoint: ep, Period: time.Millisecond, Files: []string{"../../model/testdata/ipc-01.json"}})
	got := make(chan struct{}, 1)
	w := newWatcher(model.Endpoint{Service: "fedmsg-busy", Addr: ep}, Options{}, nil, func(model.Message) {
		// A slow consumer: meanwhile zmq4's 10-message queue fills up,
		// which is when a Close without draining leaks its reader.
		time.Sleep(30 * time.Millisecond)
		select {
		case got <- struct{}{}:
		default:
		}
	})
	cycle := func() {
		select { // a message of the previous session
		case <-got:
		default:
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); w.session(ctx) }()
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("no message in a session within 10s")
		}
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("session did not end within 5s of cancel")
		}
	}
	cycle() // warm up: transports registered, runtime goroutines started
	baseG, baseFD := runtime.NumGoroutine(), openFDs(t)
	for range 200 {
		cycle()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		g, fd := runtime.NumGoroutine(), openFDs(t)
		if g <= baseG && fd <= baseFD {
			t.Logf("after 200 sessions: %d goroutines (baseline %d), %d fds (baseline %d)", g, baseG, fd, baseFD)
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("after 200 sessions: %d goroutines (baseline %d), %d fds (baseline %d)\n%s", g, baseG, fd, baseFD, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
	// One session a cycle, or more: on a loaded host a silence of the
	// 1 ms publisher past the idle limit makes a session reconnect.
	if n := w.st.Sessions.Load(); n < 201 || n > 210 {
		t.Errorf("%d sessions counted, want 201 (a few more on a loaded host)", n)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}
