package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// runCmd runs the command in-process and returns its exit code, stdout and
// stderr.
func runCmd(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errb testhub.Buffer
	if len(args) > 0 && args[0] == "check" && !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--state-dir") }) {
		// Its history kept with the test, not in /var/tmp, where an
		// earlier run's (the same ports, by chance) would be resumed.
		args = append(args, "--state-dir", t.TempDir())
	}
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// backlogs returns the backlog values written per consumer, in order.
func backlogs(out string) map[string][]float64 {
	re := regexp.MustCompile(`queue_length-(\w+)_backlog" interval=\S+ \S+:(\S+)`)
	m := map[string][]float64{}
	for _, l := range strings.Split(out, "\n") {
		if g := re.FindStringSubmatch(l); g != nil {
			v, _ := strconv.ParseFloat(g[2], 64)
			m[g[1]] = append(m[g[1]], v)
		}
	}
	return m
}

func slicesMax(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// TestSimulateIntegration: the simulate command publishes on a real ZeroMQ
// socket that the plugin reads.
func TestSimulateIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	ep := "ipc://" + filepath.Join(t.TempDir(), "monitoring-fedmsg-hub.socket")
	ctx, cancel := context.WithCancel(context.Background())
	simDone := make(chan int, 1)
	go func() {
		code, _, _ := runCmd(t, ctx, "simulate", "--bind", ep, "--speed", "50", "--profile", "notifications")
		simDone <- code
	}()
	p := startPlugin(t, "--endpoint", ep)
	deadline := time.After(10 * time.Second)
	for seen := 0; seen < 5; {
		select {
		case l := <-p.lines:
			if strings.Contains(l, "testhost/fedmsg-hub/queue_length-FMNConsumer_backlog") {
				seen++
			}
		case <-deadline:
			t.Fatal("no FMNConsumer backlog from the simulated hub within 10s")
		}
	}
	cancel()
	if code := <-simDone; code != cli.ExitOK {
		t.Errorf("simulate exited %d", code)
	}
}

// TestCaptureReplayRoundTripIntegration: what run --capture recorded,
// replayed, prints exactly what the live plugin wrote.
func TestCaptureReplayRoundTripIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	dir := t.TempDir()
	capFile := filepath.Join(dir, "capture.jsonl")
	hub := testhub.Start(t, "tcp://127.0.0.1:*", 100*time.Millisecond,
		fixtures+"ipc-01.json", fixtures+"ipc-06.json", "../../internal/model/testdata/hostile/nan.json", fixtures+"ipc-12.json")
	p := startPlugin(t, "--endpoint", "fedmsg-hub="+hub.Endpoint, "--capture", capFile, "--interval", "1h")
	var live []string
	batches := 0
	for batches < 12 {
		select {
		case l := <-p.lines:
			live = append(live, l)
			if strings.Contains(l, "/count-uninitialized") { // last line of a snapshot's compat part
				batches++
			}
		case <-time.After(10 * time.Second):
			t.Fatal("plugin wrote no batch for 10s")
		}
	}
	hub.Kill()
	p.stop(t)
	for l := range p.lines {
		live = append(live, l)
	}
	code, replayed, errs := runCmd(t, context.Background(), "replay", "--hostname", "testhost", capFile)
	if code != cli.ExitOK || errs != "" {
		t.Fatalf("replay: exit %d, stderr %q", code, errs)
	}
	want := strings.Join(live, "\n") + "\n"
	if replayed != want {
		t.Errorf("replay differs from the live output (%d bytes, replay %d), first at:\nlive:   %s\nreplay: %s", len(want), len(replayed), firstDiff(want, replayed), firstDiff(replayed, want))
	}
}

func head(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "..."
	}
	return s
}

// firstDiff returns the lines of a from the first that differs from b's,
// three at most.
func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range la {
		if i >= len(lb) || la[i] != lb[i] {
			return strings.Join(la[i:min(i+3, len(la))], "\n        ")
		}
	}
	return "(none)"
}

// TestCaptureIntegration: capture records N messages with arrival times,
// and replay gives one batch per message stamped with those times.
func TestCaptureIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	// A snapshot every 1.2 s: never two in one second, which collectd's
	// sink would leave out (at 0.8 s, one time in five).
	hub := testhub.Start(t, "tcp://127.0.0.1:*", 600*time.Millisecond, fixtures+"ipc-12.json", "../../internal/model/testdata/hostile/garbage.txt")
	out := filepath.Join(t.TempDir(), "c.jsonl")
	start := time.Now()
	code, _, errs := runCmd(t, context.Background(), "capture", "--endpoint", "fedmsg-relay="+hub.Endpoint, "--count", "6", "-o", out)
	if code != cli.ExitOK || errs != "" {
		t.Fatalf("capture: exit %d, stderr %q", code, errs)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d records, want 6:\n%s", len(lines), data)
	}
	texts := 0
	var arrivals []time.Time // of the snapshots
	var periods []float64    // the period each was captured with
	for _, l := range lines {
		var r struct {
			Service, Endpoint string
			Arrival           time.Time
			Period            float64
			Message           json.RawMessage
			Text              *string
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		if r.Service != "fedmsg-relay" || r.Endpoint != hub.Endpoint || r.Arrival.Before(start) || time.Since(r.Arrival) > time.Minute {
			t.Errorf("record %s", l)
		}
		if r.Text != nil {
			texts++
		} else {
			arrivals, periods = append(arrivals, r.Arrival), append(periods, r.Period)
		}
	}
	if texts != 3 {
		t.Errorf("%d records of garbage kept as text, want 3", texts)
	}
	code, replayed, errs := runCmd(t, context.Background(), "replay", "--hostname", "h", out)
	if code != cli.ExitError || !strings.Contains(errs, "3 of 6 messages were not snapshots") || !regexp.MustCompile(`line [0-9]: decode snapshot`).MatchString(errs) {
		t.Errorf("replay of a capture with garbage: exit %d, stderr %q", code, errs)
	}
	// Three snapshots, 1.2 s apart as published: a batch of each, but
	// for what collectd's sink leaves out: a snapshot captured before the
	// hub's period was measured (the capture's first message, when it
	// was a snapshot), and a second one in the same second as received
	// (a loaded machine's capture may take two at once).
	want, last := 0, int64(0)
	for i, a := range arrivals {
		if periods[i] > 0 && a.Unix() != last {
			want, last = want+1, a.Unix()
		}
	}
	t.Logf("snapshots captured at %v with periods %v: %d batches to replay", arrivals, periods, want)
	if n := strings.Count(replayed, "h/fedmsg-relay/count-consumers"); n != want || want == 0 {
		t.Errorf("%d batches replayed, want %d (of at least one), one per second of the snapshots' arrivals %v with a period (%v)", n, want, arrivals, periods)
	}
}

// TestReplayPlain: plain snapshots, one per line, one pretty-printed
// document, or on stdin, are stamped from now at --period intervals under
// --service.
func TestReplayPlain(t *testing.T) {
	dir := t.TempDir()
	one, err := os.ReadFile(fixtures + "ipc-06.json")
	if err != nil {
		t.Fatal(err)
	}
	var pretty bytes.Buffer
	json.Indent(&pretty, one, "", "  ")
	lines := bytes.Join([][]byte{one, one, one}, []byte("\n"))
	files := map[string][]byte{"pretty.json": pretty.Bytes(), "lines.jsonl": lines}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := float64(time.Now().Unix())
	code, out, errs := runCmd(t, context.Background(), "replay", "--hostname", "h", "--service", "moksha-hub", "--period", "10s", filepath.Join(dir, "lines.jsonl"))
	if code != cli.ExitOK || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	re := regexp.MustCompile(`"h/moksha-hub/queue_length-FMNConsumer_backlog" interval=10.000 (\d+\.\d+):188`)
	ms := re.FindAllStringSubmatch(out, -1)
	if len(ms) != 3 {
		t.Fatalf("%d FMNConsumer backlog lines, want 3:\n%s", len(ms), head(out))
	}
	for i, m := range ms {
		ts, _ := strconv.ParseFloat(m[1], 64)
		if d := ts - before - 10*float64(i); d < -1 || d > 2 {
			t.Errorf("snapshot %d stamped %v, want now + %ds", i, ts, 10*i)
		}
	}
	if !strings.Contains(out, "duration-FMNConsumer_wait") {
		t.Error("analytics missing from the replay of three snapshots")
	}
	code, out, errs = runCmd(t, context.Background(), "replay", "--hostname", "h", filepath.Join(dir, "pretty.json"))
	if code != cli.ExitOK || errs != "" || strings.Count(out, "h/fedmsg-hub/count-consumers") != 1 {
		t.Errorf("pretty-printed document: exit %d, stderr %q, output:\n%s", code, errs, head(out))
	}
}

// TestReplayStdin runs the built binary with the snapshot on stdin.
func TestReplayStdinIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	bin := filepath.Join(buildPlugin(t), "fedmsg-collectd")
	in, err := os.Open(fixtures + "ipc-12.json")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	cmd := execCommand(bin, "replay", "--hostname", "h", "-")
	cmd.Stdin = in
	out, err := cmd.Output()
	if err != nil || strings.Count(string(out), "h/fedmsg-hub/count-consumers") != 1 {
		t.Errorf("replay -: %v\n%s", err, out)
	}
	bad := execCommand(bin, "replay", "-")
	bad.Stdin = strings.NewReader("{\"consumers\": [{\"name\": \"A\", \"backlog\": 1}]}\nnot json\n")
	out, err = bad.Output()
	if err == nil || !strings.Contains(string(out), "queue_length-A_backlog") {
		t.Errorf("replay of a good and a bad line: err %v, output %q", err, out)
	}
}
