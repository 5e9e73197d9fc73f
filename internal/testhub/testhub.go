// Package testhub starts a stand-in moksha hub for tests: a real libzmq PUB
// socket (Debian's python3-zmq under /usr/bin/python3) that publishes JSON
// files the way a hub's MonitoringProducer does.
package testhub

import (
	"bufio"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

//go:embed publish.py
var script []byte

// Python is the interpreter that sees Debian's python3-zmq.
const Python = "/usr/bin/python3"

// Hub is a running publisher.
type Hub struct {
	// Endpoint is where it is bound (with the real port for tcp://...:*).
	Endpoint string
	cmd      *exec.Cmd
}

// Config describes a publisher.
type Config struct {
	// Endpoint to bind: ipc://PATH, or tcp://127.0.0.1:* for a free port.
	Endpoint string
	// Period between messages.
	Period time.Duration
	// Delay before the first message; moksha sends its first about one
	// period after it starts.
	Delay time.Duration
	// Mode, when not zero, is set on an ipc socket file after binding.
	Mode os.FileMode
	// Files are published in turn, each as one message.
	Files []string
}

// Start binds a publisher at endpoint that sends files in turn, one every
// period, and waits until it is bound. It is killed when the test ends.
func Start(t testing.TB, endpoint string, period time.Duration, files ...string) *Hub {
	t.Helper()
	return Run(t, Config{Endpoint: endpoint, Period: period, Files: files})
}

// Run starts a publisher as c describes and waits until it is bound. It is
// killed when the test ends.
func Run(t testing.TB, c Config) *Hub {
	t.Helper()
	endpoint := c.Endpoint
	path := filepath.Join(t.TempDir(), "publish.py")
	if err := os.WriteFile(path, script, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{path, "--period", fmt.Sprint(c.Period.Seconds()), "--delay", fmt.Sprint(c.Delay.Seconds())}
	if c.Mode != 0 {
		args = append(args, "--mode", fmt.Sprintf("%o", c.Mode))
	}
	args = append(args, endpoint)
	cmd := exec.Command(Python, append(args, c.Files...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start libzmq publisher (apt-get install python3-zmq): %v", err)
	}
	h := &Hub{cmd: cmd}
	t.Cleanup(h.Kill)
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
	}()
	select {
	case line := <-ready:
		ep, ok := strings.CutPrefix(strings.TrimSpace(line), "ready ")
		if !ok {
			t.Fatalf("publisher at %s did not start (said %q)", endpoint, line)
		}
		h.Endpoint = ep
	case <-time.After(20 * time.Second):
		t.Fatalf("publisher at %s not ready after 20s", endpoint)
	}
	return h
}

// Kill stops the publisher with SIGKILL and reaps it. It may be called
// more than once.
func (h *Hub) Kill() { h.Stop(syscall.SIGKILL) }

// Stop sends sig (SIGKILL or SIGTERM) and waits for the publisher to exit.
func (h *Hub) Stop(sig syscall.Signal) {
	if h.cmd.ProcessState != nil {
		return
	}
	h.cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { h.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		h.cmd.Process.Signal(syscall.SIGKILL)
		<-done
	}
}

// Signal sends sig (such as SIGSTOP or SIGCONT) without waiting.
func (h *Hub) Signal(sig syscall.Signal) error { return h.cmd.Process.Signal(sig) }

// Pid is the publisher's process id.
func (h *Hub) Pid() int { return h.cmd.Process.Pid }
