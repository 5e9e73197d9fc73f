package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// TestCheckIntegration runs the check command against a real libzmq
// publisher replaying captures, per scenario: exact status line and
// perfdata, and exit code.
func TestCheckIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	dir := t.TempDir()
	hub06 := testhub.Start(t, "ipc://"+filepath.Join(dir, "monitoring-fedmsg-hub.socket"), 200*time.Millisecond, fixtures+"ipc-06.json")
	hub01 := testhub.Start(t, "tcp://127.0.0.1:*", 200*time.Millisecond, fixtures+"ipc-01.json")
	// Every second the FMNConsumer of ipc-06: 188 waiting, 99 messages of
	// 50 ms done (4.96 s of work a second: five busy workers), so a message
	// arriving now waits 188 x 50 ms / 4.96 = 1.9 s.
	hub06s := testhub.Start(t, "tcp://127.0.0.1:*", time.Second, fixtures+"ipc-06.json")
	silent := testhub.Run(t, testhub.Config{Endpoint: "ipc://" + filepath.Join(dir, "silent.socket"), Period: time.Hour, Delay: time.Hour, Files: []string{fixtures + "ipc-12.json"}})
	for _, tt := range []struct {
		name  string
		args  []string
		first string // the status line
		code  int
	}{
		{"old backlog check", []string{"--endpoint", hub06.Endpoint, "--consumer", "FMNConsumer", "--backlog-warning", "15000", "--backlog-critical", "20000"},
			"FEDMSG OK - FMNConsumer: backlog 188, exceptions 0 | 'FMNConsumer_backlog'=188;15000;20000;0; 'FMNConsumer_exceptions'=0;;;0;", 0},
		{"backlog warning", []string{"--endpoint", hub06.Endpoint, "--consumer", "FMNConsumer", "--backlog-warning", "150", "--backlog-critical", "@1000:"},
			"FEDMSG WARNING - FMNConsumer backlog 188 (warning above 150) | 'FMNConsumer_backlog'=188;150;@1000:;0; 'FMNConsumer_exceptions'=0;;;0;", 1},
		{"old exceptions check over tcp", []string{"--endpoint", hub01.Endpoint, "--consumer", "FlakyConsumer", "--exceptions-warning", "1", "--exceptions-critical", "10"},
			"FEDMSG CRITICAL - FlakyConsumer exceptions 25 (critical above 10) | 'FlakyConsumer_backlog'=0;;;0; 'FlakyConsumer_exceptions'=25;1;10;0;", 2},
		{"presence", []string{"--endpoint", hub06.Endpoint, "--consumer", "FMNConsumer", "--consumer", "Gone", "--producer", "FlakyProducer"},
			"FEDMSG UNKNOWN - consumer Gone not found | 'FMNConsumer_backlog'=188;;;0; 'FMNConsumer_exceptions'=0;;;0;", 3},
		{"presence, must exist", []string{"--endpoint", hub06.Endpoint, "--consumer", "Gone", "--missing", "critical"},
			"FEDMSG CRITICAL - consumer Gone not found", 2},
		{"producer not run yet", []string{"--endpoint", hub06.Endpoint, "--producer", "LazyProducer", "--last-ran-warning", "90", "--last-ran-critical", "600"},
			"FEDMSG UNKNOWN - producer LazyProducer has not run yet", 3},
		{"expected wait and drain time, from two snapshots", []string{"--endpoint", hub06s.Endpoint, "--consumer", "FMNConsumer", "--wait-warning", "1", "--drain-critical", "600"},
			"FEDMSG WARNING - FMNConsumer expected wait 2 s (warning above 1) | 'FMNConsumer_backlog'=188;;;0; 'FMNConsumer_exceptions'=0;;;0; 'FMNConsumer_expected_wait'=", 1},
		{"missing socket", []string{"--endpoint", "ipc://" + filepath.Join(dir, "monitoring-nothing.socket")},
			"FEDMSG UNKNOWN - socket " + filepath.Join(dir, "monitoring-nothing.socket") + " does not exist (is the hub installed and its monitoring socket configured?)", 3},
		{"closed port", []string{"--endpoint", "tcp://127.0.0.1:" + closedPort(t)},
			"FEDMSG UNKNOWN - no hub listening on 127.0.0.1:", 3},
		{"bad range", []string{"--endpoint", hub06.Endpoint, "--backlog-warning", "20:10"},
			"FEDMSG UNKNOWN - invalid value \"20:10\" for flag -backlog-warning: threshold \"20:10\": start is above end (see fedmsg-collectd check -h)", 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, _ := runCmd(t, context.Background(), append([]string{"check", "--timeout", "5s"}, tt.args...)...)
			first, _, _ := strings.Cut(out, "\n")
			if code != tt.code || !strings.HasPrefix(first, tt.first) {
				t.Errorf("exit %d, output:\n%s\nwant exit %d and a first line starting\n%s", code, out, tt.code, tt.first)
			}
		})
	}
	// A hub that never publishes: UNKNOWN, and within the timeout.
	start := time.Now()
	code, out, _ := runCmd(t, context.Background(), "check", "--endpoint", silent.Endpoint, "--timeout", "2s")
	took := time.Since(start)
	if code != 3 || !strings.HasPrefix(out, "FEDMSG UNKNOWN - no snapshot from "+silent.Endpoint+" within 2s") || took > 2500*time.Millisecond {
		t.Errorf("silent hub: exit %d after %v, output %q", code, took, out)
	}
}

func closedPort(t *testing.T) string {
	t.Helper()
	return freePortForCheck(t)
}

// TestCheckPermissionIntegration runs the check as an unprivileged user
// against a socket only root may use: UNKNOWN, permission denied.
func TestCheckPermissionIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	bin := filepath.Join(buildPlugin(t), "fedmsg-collectd")
	dir, err := os.MkdirTemp("", "fedmsg-check-perm-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	ep := "ipc://" + filepath.Join(dir, "monitoring-fedmsg-hub.socket")
	testhub.Run(t, testhub.Config{Endpoint: ep, Period: 200 * time.Millisecond, Mode: 0o700, Files: []string{fixtures + "ipc-12.json"}})
	out, err := exec.Command("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", bin, "check", "--endpoint", ep, "--timeout", "5s").Output()
	code := -1
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	want := "FEDMSG UNKNOWN - permission denied on " + filepath.Join(dir, "monitoring-fedmsg-hub.socket") + " (is this user in the socket's group?)\n"
	if code != 3 || string(out) != want {
		t.Errorf("as nobody: exit %d, output %q, want 3 and %q", code, out, want)
	}
	// The plugin itself says once who it runs as, who owns the socket
	// and what to change.
	var stderr testhub.Buffer
	run := exec.Command("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", bin, "--endpoint", ep)
	run.Stderr = &stderr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "hint=") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	run.Process.Kill()
	run.Wait()
	for _, want := range []string{
		"permission denied on the hub's monitoring socket",
		"running as user nobody (65534), groups nogroup (65534)",
		filepath.Join(dir, "monitoring-fedmsg-hub.socket") + " is root:root mode 0700",
		`Exec \"nobody:root\"`,
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("run as nobody: stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	// The same user in the socket's group gets the snapshot: root's group
	// with mode 770.
	os.Chmod(filepath.Join(dir, "monitoring-fedmsg-hub.socket"), 0o770)
	out, err = exec.Command("setpriv", "--reuid=nobody", "--regid=root", "--clear-groups", bin, "check", "--endpoint", ep, "--timeout", "5s").Output()
	if err != nil || !strings.HasPrefix(string(out), "FEDMSG OK - 4 consumers checked") {
		t.Errorf("as nobody in group root with mode 770: %v, %q", err, out)
	}
}

// freePortForCheck returns a loopback TCP port nothing listens on.
func freePortForCheck(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}

// TestSocketDirPermissionIntegration: run as an unprivileged user that
// may not list the socket directory, the plugin says so once, with who it
// runs as and what to change, however often it rescans.
func TestSocketDirPermissionIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	bin := filepath.Join(buildPlugin(t), "fedmsg-collectd")
	parent, err := os.MkdirTemp("", "fedmsg-dir-perm-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(parent)
	os.Chmod(parent, 0o755)
	dir := filepath.Join(parent, "fedmsg")
	os.Mkdir(dir, 0o700)
	var stderr testhub.Buffer
	run := exec.Command("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", bin, "--socket-dir", dir, "--rescan", "100ms")
	run.Stderr = &stderr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	// The hint, then ten rescans or more watched for a repeat of it.
	start, deadline := time.Now(), time.Now().Add(10*time.Second)
	for !strings.Contains(stderr.String(), "permission denied") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for time.Since(start) < time.Second {
		time.Sleep(20 * time.Millisecond)
	}
	run.Process.Kill()
	run.Wait()
	s := stderr.String()
	if strings.Count(s, "cannot list the sockets in "+dir+": permission denied") != 1 ||
		!strings.Contains(s, "running as user nobody (65534), groups nogroup (65534)") ||
		!strings.Contains(s, dir+" is root:root mode 0700 and discovering the sockets in it needs read (r) and search (x) permission") {
		t.Errorf("stderr:\n%s", s)
	}
}
