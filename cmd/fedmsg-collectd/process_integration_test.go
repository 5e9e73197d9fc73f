package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// proc is the built plugin running as a separate process.
type proc struct {
	cmd    *exec.Cmd
	stdout io.ReadCloser
	stderr *testhub.Buffer
	exited chan struct{}
}

func startProc(t testing.TB, args ...string) *proc {
	t.Helper()
	bin := filepath.Join(buildPlugin(t), "fedmsg-collectd")
	p := &proc{cmd: exec.Command(bin, append([]string{"--hostname", "testhost"}, args...)...), stderr: new(testhub.Buffer), exited: make(chan struct{})}
	p.cmd.Stderr = p.stderr
	var err error
	if p.stdout, err = p.cmd.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// status reads a field of /proc/PID/status in KiB (VmRSS, VmHWM).
func (p *proc) status(t testing.TB, field string) int {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	if err != nil {
		t.Fatalf("plugin process gone: %v; stderr: %s", err, p.stderr)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Fatalf("no %s in /proc status", field)
	return 0
}

// TestSignalsIntegration: SIGTERM, SIGINT and SIGHUP end the plugin within
// a second with status 0, whatever its hubs are doing.
func TestSignalsIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	hub := testhub.Start(t, "tcp://127.0.0.1:*", 10*time.Millisecond, fixtures+"ipc-01.json")
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		p := startProc(t, "--endpoint", "fedmsg-hub="+hub.Endpoint, "--endpoint", "ipc:///nonexistent/monitoring-x.socket")
		heard := make(chan struct{})
		go func() {
			sc := bufio.NewScanner(p.stdout)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				if strings.Contains(sc.Text(), "/fedmsg-hub/") {
					close(heard)
					break
				}
			}
			io.Copy(io.Discard, p.stdout)
		}()
		select { // connected and busy
		case <-heard:
		case <-time.After(10 * time.Second):
			t.Fatalf("%v: no values of the hub within 10s; stderr: %s", sig, p.stderr)
		}
		sent := time.Now()
		p.cmd.Process.Signal(sig)
		select {
		case <-p.exited:
			t.Logf("%v: exited after %v", sig, time.Since(sent).Round(time.Millisecond))
		case <-time.After(time.Second):
			t.Fatalf("%v: still running 1s later", sig)
		}
		if code := p.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("%v: exit status %d, want 0; stderr: %s", sig, code, p.stderr)
		}
	}
}

// TestStalledStdoutIntegration: while collectd does not read, memory stays
// bounded and snapshots are dropped (counted); once it reads again, the
// plugin writes current values at once.
func TestStalledStdoutIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	hub := testhub.Start(t, "tcp://127.0.0.1:*", 2*time.Millisecond, fixtures+"ipc-01.json")
	// Eight subscriptions to the busy hub write enough to fill the pipe.
	args := []string{"--endpoint", "fedmsg-hub=" + hub.Endpoint, "--interval", "200ms"}
	for i := range 7 {
		args = append(args, "--endpoint", fmt.Sprintf("fedmsg-hub%d=%s", i, hub.Endpoint))
	}
	p := startProc(t, args...)
	// Until the pipe is full: the plugin widened it to 1 MiB, which the
	// subscriptions' lines (a snapshot a second each, collectd's limit)
	// fill in about 10 s. Full is more than half of it in the pipe and
	// none added for a second (the writer is blocked: the pipe's pages
	// are not all filled to the byte).
	f := p.stdout.(*os.File)
	full, last, since := false, -1, time.Now()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline) && !full; {
		time.Sleep(100 * time.Millisecond)                     // polling the pipe's fill
		n, err1 := unix.IoctlGetInt(int(f.Fd()), unix.TIOCINQ) // FIONREAD
		size, err2 := unix.FcntlInt(f.Fd(), unix.F_GETPIPE_SZ, 0)
		if err1 != nil || err2 != nil {
			t.Fatalf("the pipe: %v, %v", err1, err2)
		}
		if n != last {
			last, since = n, time.Now()
		}
		full = n > size/2 && time.Since(since) > time.Second
	}
	if !full {
		t.Fatalf("stdout's pipe not full within 60 s (%d bytes in it); stderr: %s", last, p.stderr)
	}
	// The scenario: 4 s more of nobody reading (~2000 snapshots of 10 KB
	// per subscription), not a wait for something to happen.
	time.Sleep(4 * time.Second)
	rss := p.status(t, "VmRSS")
	t.Logf("RSS after 4s with stdout stalled: %d KiB", rss)
	if rss > 32<<10 {
		t.Errorf("RSS %d KiB with stdout stalled, want under 32 MiB", rss)
	}
	// Read again: fresh values, and the drops were counted.
	unblocked := time.Now()
	sc := bufio.NewScanner(p.stdout)
	fresh, dropped := false, false
	for sc.Scan() && time.Since(unblocked) < 5*time.Second && !(fresh && dropped) {
		l := sc.Text()
		if strings.Contains(l, "/fedmsg-hub/queue_length-FMNConsumer_backlog") {
			ts := l[strings.LastIndex(l, " ")+1 : strings.LastIndex(l, ":")]
			sec, _ := strconv.ParseFloat(ts, 64)
			if age := float64(time.Now().UnixNano())/1e9 - sec; age < 0.5 {
				fresh = true
			}
		}
		if strings.Contains(l, "/fedmsg-collectd/derive-fedmsg-hub_dropped_snapshots") && !strings.HasSuffix(l, ":0") {
			dropped = true
		}
	}
	if !fresh || !dropped {
		t.Errorf("after unblocking: fresh values %v, dropped snapshots counted %v", fresh, dropped)
	}
}

// TestOversizeIntegration: peers announcing a 4 GiB and a 2^62-byte frame
// are disconnected, the process stays alive and small, and a real hub
// beside them is still reported.
func TestOversizeIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	evil := func(size uint64) *testhub.FakePeer {
		return testhub.StartFakePeer(t, func(w io.Writer) {
			w.Write(testhub.LongFrameHeader(size))
			chunk := make([]byte, 64<<10)
			for range 2048 { // up to 128 MiB of body, until disconnected
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		})
	}
	big, huge := evil(4<<30), evil(1<<62)
	hub := testhub.Start(t, "tcp://127.0.0.1:*", 100*time.Millisecond, fixtures+"ipc-12.json")
	p := startProc(t, "--interval", "200ms",
		"--endpoint", "fedmsg-big="+big.Addr, "--endpoint", "fedmsg-huge="+huge.Addr, "--endpoint", "fedmsg-hub="+hub.Endpoint)
	counts := map[string]bool{}
	sc := bufio.NewScanner(p.stdout)
	deadline := time.Now().Add(10 * time.Second)
	hubSeen := 0
	for sc.Scan() && time.Now().Before(deadline) {
		l := sc.Text()
		for _, svc := range []string{"fedmsg-big", "fedmsg-huge"} {
			if strings.Contains(l, "derive-"+svc+"_oversize_messages") && !strings.HasSuffix(l, ":0") {
				counts[svc] = true
			}
		}
		if strings.Contains(l, "testhost/fedmsg-hub/count-consumers") {
			hubSeen++
		}
		if len(counts) == 2 && hubSeen >= 10 {
			break
		}
	}
	if len(counts) != 2 || hubSeen < 10 {
		t.Fatalf("oversize counted for %v, hub snapshots %d; stderr: %s", counts, hubSeen, p.stderr)
	}
	select {
	case <-p.exited:
		t.Fatalf("plugin exited: %s", p.stderr)
	default:
	}
	hwm := p.status(t, "VmHWM")
	t.Logf("peak RSS %d KiB after 4 GiB and 2^62-byte frames; stderr: %s", hwm, p.stderr)
	if hwm > 64<<10 {
		t.Errorf("peak RSS %d KiB, want under 64 MiB", hwm)
	}
	if n := strings.Count(p.stderr.String(), "\n"); n > 4 {
		t.Errorf("%d log lines, want at most a couple per endpoint:\n%s", n, p.stderr)
	}
}

// execCommand is exec.Command, named for the tests that run the binary.
func execCommand(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }

// TestHostileHandshakeIntegration: peers whose READY announces a socket
// type zmq4 does not know (FOO, RADIO, pub) or none, beside a real libzmq
// hub: the plugin refuses them (counted), keeps reporting the hub and does
// not die; check on such a peer is UNKNOWN and says why.
func TestHostileHandshakeIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	hub := testhub.Start(t, "tcp://127.0.0.1:*", 100*time.Millisecond, fixtures+"ipc-12.json")
	args := []string{"--interval", "200ms", "--endpoint", "fedmsg-hub=" + hub.Endpoint}
	variants := map[string][]byte{
		"foo":     testhub.Ready("FOO"),
		"radio":   testhub.Ready("RADIO"),
		"lower":   testhub.Ready("pub"),
		"missing": testhub.ReadyWith("Identity", "x"),
	}
	peers := map[string]*testhub.FakePeer{}
	for name, ready := range variants {
		peers[name] = testhub.StartPeer(t, append(testhub.Greeting(), ready...), func(io.Writer) {})
		args = append(args, "--endpoint", "fedmsg-"+name+"="+peers[name].Addr)
	}
	p := startProc(t, args...)
	refused := map[string]bool{}
	hubSeen := 0
	sc := bufio.NewScanner(p.stdout)
	sc.Buffer(nil, 1<<20)
	deadline := time.Now().Add(15 * time.Second)
	for sc.Scan() && time.Now().Before(deadline) && (len(refused) < len(variants) || hubSeen < 10) {
		l := sc.Text()
		for name := range variants {
			if strings.Contains(l, "derive-fedmsg-"+name+"_refused_handshakes") && !strings.HasSuffix(l, ":0") {
				refused[name] = true
			}
		}
		if strings.Contains(l, "testhost/fedmsg-hub/count-consumers") {
			hubSeen++
		}
	}
	if len(refused) < len(variants) || hubSeen < 10 {
		t.Fatalf("refused %v of %d peers, hub snapshots %d; stderr: %s", refused, len(variants), hubSeen, p.stderr)
	}
	select {
	case <-p.exited:
		t.Fatalf("plugin exited: %s", p.stderr)
	default:
	}
	if !strings.Contains(p.stderr.String(), "dropped a peer whose handshake is not a publisher's") {
		t.Errorf("no log line about the refused peers: %s", p.stderr)
	}
	for name, peer := range peers {
		code, out, _ := runCmd(t, context.Background(), "check", "--endpoint", peer.Addr, "--timeout", "2s")
		if code != 3 || !strings.Contains(out, "FEDMSG UNKNOWN - no snapshot from "+peer.Addr+" within 2s (") || !strings.Contains(out, "not a ZMTP 3 publisher's handshake") {
			t.Errorf("check on %s: exit %d, %q; want 3 and the reason", name, code, out)
		}
	}
}

// lineWaiter reads the plugin's stdout and finds lines.
type lineWaiter struct {
	lines chan string
}

func newLineWaiter(r io.Reader) *lineWaiter {
	w := &lineWaiter{lines: make(chan string, 10000)}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
		close(w.lines)
	}()
	return w
}

// next waits for a line with all of parts, skipping others.
func (w *lineWaiter) next(t *testing.T, within time.Duration, parts ...string) string {
	t.Helper()
	deadline := time.After(within)
	var notes []string
	for {
		select {
		case l, ok := <-w.lines:
			if strings.HasPrefix(l, "PUTNOTIF") {
				notes = append(notes, l)
			}
			if !ok {
				t.Fatalf("stdout closed before a line with %q", parts)
			}
			all := true
			for _, p := range parts {
				all = all && strings.Contains(l, p)
			}
			if all {
				return l
			}
		case <-deadline:
			t.Fatalf("no line with %q within %v; notifications meanwhile: %q", parts, within, notes)
		}
	}
}

// TestVanishedSocketIntegration: a discovered hub whose socket file goes
// away is reported lost (hub_up 0 and a failure notification) and keeps
// being reported 0 until --forget-after; back, it is reported again with
// an okay notification.
func TestVanishedSocketIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "monitoring-fedmsg-hub.socket")
	hub := testhub.Start(t, "ipc://"+path, 200*time.Millisecond, fixtures+"ipc-12.json")
	p := startProc(t, "--socket-dir", dir, "--rescan", "100ms", "--interval", "200ms", "--forget-after", "3s")
	w := newLineWaiter(p.stdout)
	// Heard for a few periods: its period is known (until then a hub is
	// given moksha's 5 s).
	for range 5 {
		w.next(t, 10*time.Second, "testhost/fedmsg-hub/bool-hub_up", ":1")
	}
	hub.Kill()
	os.Remove(path) // as libzmq does when a hub closes its socket
	w.next(t, 10*time.Second, "PUTNOTIF severity=failure", `plugin_instance="hub"`, "no snapshot on ipc://"+path)
	w.next(t, 2*time.Second, "testhost/fedmsg-hub/bool-hub_up", ":0")
	w.next(t, 2*time.Second, "testhost/fedmsg-hub/bool-hub_up", ":0") // again: still reported
	hub2 := testhub.Start(t, "ipc://"+path, 200*time.Millisecond, fixtures+"ipc-12.json")
	w.next(t, 10*time.Second, "PUTNOTIF severity=okay", "is heard again")
	for range 5 {
		w.next(t, 2*time.Second, "testhost/fedmsg-hub/bool-hub_up", ":1")
	}
	// Gone again, for longer than --forget-after: no longer reported.
	hub2.Kill()
	os.Remove(path)
	w.next(t, 10*time.Second, "PUTNOTIF severity=failure", `plugin_instance="hub"`)
	start := time.Now()
	quiet := 0 // intervals in a row without the hub's liveness
	for quiet < 2 {
		l := w.next(t, 10*time.Second, "testhost/")
		switch {
		case strings.Contains(l, "fedmsg-hub/bool-hub_up"):
			quiet = 0
		case strings.Contains(l, "fedmsg-collectd/gauge-goroutines"):
			quiet++
		}
		if time.Since(start) > 15*time.Second {
			t.Fatal("still reported 15 s after the socket went away, with --forget-after 3s")
		}
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("forgotten %v after the failure, before --forget-after 3s", d)
	}
	select {
	case <-p.exited:
		t.Fatalf("plugin exited: %s", p.stderr)
	default:
	}
}
