package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
	"github.com/fedora-infra/fedmsg-collectd/internal/derive"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/report"
	"github.com/fedora-infra/fedmsg-collectd/internal/sink/putval"
	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

const fixtures = "../../internal/model/testdata/"

// expected renders what the plugin must print for file under service, with
// the time as N (the arrival time is not known in advance).
func expected(t *testing.T, service, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s, err := model.Decode(data, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	subjects, vs := derive.NewHub(nil).Values(s)
	if err := putval.NewSink(&buf, "testhost").Write(report.Update{Snapshots: []report.Batch{{Service: service, Interval: time.Second, Subjects: subjects, Values: vs}}}); err != nil {
		t.Fatal(err)
	}
	return normalize(strings.Split(strings.TrimSpace(buf.String()), "\n"))
}

var (
	timeField     = regexp.MustCompile(` [0-9]+\.[0-9]{3}:`)
	intervalField = regexp.MustCompile(` interval=[0-9.]+ `)
)

// normalize replaces the time and interval, and the last-ran ages, which
// depend on the arrival time.
func normalize(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		l = intervalField.ReplaceAllString(timeField.ReplaceAllString(l, " N:"), " interval=I ")
		if strings.Contains(l, "_last_ran_age") {
			l = l[:strings.LastIndex(l, ":")+1] + "AGE"
		}
		out[i] = l
	}
	return out
}

// plugin runs the command in-process with a pipe for stdout.
type plugin struct {
	lines  chan string
	stderr *testhub.Buffer
	cancel context.CancelFunc
	code   chan int
}

func startPlugin(t *testing.T, args ...string) *plugin {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	p := &plugin{lines: make(chan string, 10000), stderr: new(testhub.Buffer), cancel: cancel, code: make(chan int, 1)}
	go func() {
		p.code <- run(ctx, append([]string{"--hostname", "testhost"}, args...), w, p.stderr)
		w.Close()
	}()
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop cancels the plugin as SIGTERM would and checks it exits 0 promptly.
func (p *plugin) stop(t *testing.T) {
	p.cancel()
	select {
	case code := <-p.code:
		if code != cli.ExitOK {
			t.Errorf("exit %d after cancel, stderr: %s", code, p.stderr)
		}
		p.code <- code
	case <-time.After(time.Second):
		t.Error("plugin did not exit within 1s of cancel")
	}
}

// waitFor reads lines until it has seen the batch of service that matches
// want (normalized), or fails after within.
func (p *plugin) waitFor(t *testing.T, service string, want []string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	var batch []string
	prefix := `PUTVAL "testhost/` + service + `/`
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("stdout closed; stderr: %s", p.stderr)
			}
			if !strings.HasPrefix(l, prefix) {
				continue
			}
			batch = append(batch, normalize([]string{l})[0])
			if len(batch) > len(want) {
				batch = batch[1:]
			}
			if cmp.Equal(want, batch) {
				return
			}
		case <-deadline:
			t.Fatalf("no batch for %s within %v; last lines:\n%s\nwant:\n%s\nstderr: %s", service, within,
				strings.Join(batch, "\n"), strings.Join(want, "\n"), p.stderr)
		}
	}
}

// TestRunDiscoveryIntegration: with no --endpoint, sockets that appear in
// the directory are picked up and each hub's capture comes out as the
// expected lines under its service.
func TestRunDiscoveryIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	dir := t.TempDir()
	p := startPlugin(t, "--socket-dir", dir, "--rescan", "100ms")
	testhub.Start(t, "ipc://"+filepath.Join(dir, "monitoring-fedmsg-hub.socket"), 200*time.Millisecond, fixtures+"ipc-01.json")
	p.waitFor(t, "fedmsg-hub", expected(t, "fedmsg-hub", fixtures+"ipc-01.json"), 5*time.Second)
	testhub.Start(t, "ipc://"+filepath.Join(dir, "monitoring-fedmsg-relay.socket"), 200*time.Millisecond, fixtures+"ipc-12.json")
	p.waitFor(t, "fedmsg-relay", expected(t, "fedmsg-relay", fixtures+"ipc-12.json"), 5*time.Second)
	if s := p.stderr.String(); s != "" {
		t.Errorf("stderr: %s", s)
	}
}

// TestRunDiscoveryBesidePolledIntegration: discovery stays on when a
// polled source is given too.
func TestRunDiscoveryBesidePolledIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"In": 10, "Out": 4}`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	p := startPlugin(t, "--socket-dir", dir, "--rescan", "100ms", "--counters", "stages="+srv.URL)
	testhub.Start(t, "ipc://"+filepath.Join(dir, "monitoring-fedmsg-hub.socket"), 200*time.Millisecond, fixtures+"ipc-01.json")
	p.waitFor(t, "fedmsg-hub", expected(t, "fedmsg-hub", fixtures+"ipc-01.json"), 5*time.Second)
}

// TestRunBrokenNeighboursIntegration: a hub that is missing and one that
// accepts connections but never speaks do not delay a working hub.
func TestRunBrokenNeighboursIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	hub := testhub.Start(t, "tcp://127.0.0.1:*", 200*time.Millisecond, fixtures+"tcp-01.json")
	p := startPlugin(t,
		"--endpoint", "fedmsg-silent=tcp://"+ln.Addr().String(),
		"--endpoint", "ipc://"+filepath.Join(dir, "monitoring-fedmsg-missing.socket"),
		"--endpoint", "fedmsg-hub="+hub.Endpoint)
	p.waitFor(t, "fedmsg-hub", expected(t, "fedmsg-hub", fixtures+"tcp-01.json"), 3*time.Second)
}

// TestRunClosedStdoutIntegration: when collectd goes away, the plugin exits
// promptly with a non-zero status and says why.
func TestRunClosedStdoutIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	hub := testhub.Start(t, "tcp://127.0.0.1:*", 100*time.Millisecond, fixtures+"ipc-12.json")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	defer w.Close()
	var stderr testhub.Buffer
	code := make(chan int, 1)
	go func() { code <- run(context.Background(), []string{"--endpoint", hub.Endpoint}, w, &stderr) }()
	select {
	case c := <-code:
		if c != cli.ExitError {
			t.Errorf("exit %d, want %d", c, cli.ExitError)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still running 5s after stdout was closed")
	}
	if s := stderr.String(); !strings.Contains(s, "broken pipe") || strings.Count(s, "\n") != 1 {
		t.Errorf("want one log line naming the broken pipe, got: %q", s)
	}
}

// TestRunDebugLatencyIntegration: at --log-level debug each snapshot
// written gets a line with its latency, which scripts/bench reads.
func TestRunDebugLatencyIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	dir := t.TempDir()
	p := startPlugin(t, "--socket-dir", dir, "--rescan", "100ms", "--log-level", "debug")
	testhub.Start(t, "ipc://"+filepath.Join(dir, "monitoring-fedmsg-hub.socket"), 200*time.Millisecond, fixtures+"ipc-01.json")
	p.waitFor(t, "fedmsg-hub", expected(t, "fedmsg-hub", fixtures+"ipc-01.json"), 5*time.Second)
	line := regexp.MustCompile(`level=DEBUG msg="wrote snapshot" service=fedmsg-hub values=\d+ latency=[0-9.]+(µs|ms|s)\n`)
	deadline := time.Now().Add(5 * time.Second)
	for !line.MatchString(p.stderr.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no latency line in stderr:\n%s", p.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
