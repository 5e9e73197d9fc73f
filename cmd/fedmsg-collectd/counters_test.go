package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// TestCountersSourceIntegration: the plugin polls a small HTTP server whose stage
// counters grow at 100 and 60 events a second, and writes the queue
// between the stages: its length, the rates in and out, the expected wait.
func TestCountersSourceIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t) // on the wall clock: a source's liveness, polls
	srv := stagesServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs testhub.Buffer
	done := make(chan int, 1)
	go func() {
		// Smoothed over five polls: a poll's time read late under load
		// (the suite runs its tests side by side) is averaged out; a poll
		// a second, given half a second, as collectd writes at most one.
		done <- run(ctx, []string{"--counters", "pipeline=" + srv.URL, "--counters-interval", "1s",
			"--interval", "1s", "--smoothing", "5s", "--hostname", "h"}, &out, &errs)
	}()
	deadline := time.Now().Add(20 * time.Second)
	var in, served, wait, backlog float64
	ok := false
	for time.Now().Before(deadline) && !ok {
		time.Sleep(50 * time.Millisecond)
		s := out.String()
		_, iv := putvals(s, "h/pipeline/operations_per_second-Uploaded_to_Staged_arrival_rate")
		_, sv := putvals(s, "h/pipeline/operations_per_second-Uploaded_to_Staged_service_rate")
		_, wv := putvals(s, "h/pipeline/duration-Uploaded_to_Staged_expected_wait")
		_, bv := putvals(s, "h/pipeline/queue_length-Uploaded_to_Staged_backlog")
		if len(iv) > 6 && len(sv) > 6 && len(wv) > 6 && len(bv) > 6 {
			in, served, wait, backlog = iv[len(iv)-1], sv[len(sv)-1], wv[len(wv)-1], bv[len(bv)-1]
			ok = true
		}
	}
	cancel()
	<-done
	if !ok {
		t.Fatalf("no queue values within 20 s:\n%s\n%s", out.String(), errs.String())
	}
	if math.Abs(in-100) > 10 || math.Abs(served-60) > 6 {
		t.Errorf("rates in %v and out %v, want 100 and 60", in, served)
	}
	if want := backlog / 60; math.Abs(wait-want) > 0.2*want {
		t.Errorf("expected wait %v with backlog %v served at 60/s, want about %v", wait, backlog, want)
	}
	if !strings.Contains(out.String(), `"h/pipeline/queue_length-Staged_to_Done_backlog"`) {
		t.Errorf("no second queue:\n%s", out.String())
	}
	// A poll the loaded machine kept from its answer for its whole time
	// out (a second) is said, and is no fault of the source; anything
	// else on stderr is.
	for _, line := range strings.Split(strings.TrimSpace(errs.String()), "\n") {
		if line != "" && !strings.Contains(line, "no answer within the poll's time out") {
			t.Errorf("an error: %s", line)
		}
	}
}

// TestBrokerLostIntegration: a broker that stops answering is reported lost, as a
// hub is (hub_up 0 and a failure notification), while the other sources
// go on.
func TestBrokerLostIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t) // on the wall clock: a source's liveness, polls
	var mu sync.Mutex
	n := 0
	broker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++ // new figures at every poll
		fmt.Fprintf(w, `[{"name":"fmn","vhost":"/","messages_ready":%d,"messages_unacknowledged":0,"consumers":1,"message_stats":{"publish":%d,"deliver_get":%d}}]`, n, 10*n, 9*n)
		mu.Unlock()
	}))
	start := time.Now()
	stages := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := time.Since(start).Seconds()
		fmt.Fprintf(w, `{"In": %d, "Out": %d}`, int(10*s), int(5*s))
	}))
	defer stages.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs testhub.Buffer
	done := make(chan int, 1)
	go func() {
		// A vhost's snapshots come every 4.5 s or more: lost after one
		// such period without one.
		done <- run(ctx, []string{"--rabbitmq", broker.URL, "--rabbitmq-interval", "1s", "--counters", "stages=" + stages.URL,
			"--counters-interval", "1s", "--interval", "1s", "--idle-periods", "1", "--hostname", "h"}, &out, &errs)
	}()
	defer func() { cancel(); <-done }()
	wait := func(what string, cond func(string) bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond(out.String()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 20 s:\n%s", what, out.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	wait("the broker up", func(s string) bool {
		_, v := putvals(s, "h/fedmsg_rabbitmq-default/bool-hub_up")
		return len(v) > 0 && v[len(v)-1] == 1
	})
	broker.Close()
	wait("the broker lost", func(s string) bool {
		_, v := putvals(s, "h/fedmsg_rabbitmq-default/bool-hub_up")
		return len(v) > 0 && v[len(v)-1] == 0 && strings.Contains(s, `PUTNOTIF severity=failure`)
	})
	before := strings.Count(out.String(), `"h/stages/queue_length-In_to_Out_backlog"`)
	wait("the stages going on", func(s string) bool { return strings.Count(s, `"h/stages/queue_length-In_to_Out_backlog"`) > before+1 })
	if !strings.Contains(errs.String(), "cannot poll the broker") {
		t.Errorf("no log of the failed polls: %q", errs.String())
	}
}

// TestCheckCounters: check reads a counters service through the same
// registry as run: the queue between two stages against a backlog range,
// and a refused connection UNKNOWN at once.
func TestCheckCounters(t *testing.T) {
	parallel(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"Uploaded": 500, "Staged": 100}`)
	}))
	defer srv.Close()
	var out, errs strings.Builder
	state := filepath.Join(t.TempDir(), "state")
	code := run(context.Background(), []string{"check", "--state-dir", state, "--counters", "pipeline=" + srv.URL, "--consumer", "Uploaded_to_Staged",
		"--backlog-warning", "100", "--backlog-critical", "1000"}, &out, &errs)
	if code != 1 || !strings.HasPrefix(out.String(), "FEDMSG WARNING - Uploaded_to_Staged backlog 400") {
		t.Errorf("exit %d, %q (stderr %q); want WARNING on a backlog of 400", code, out.String(), errs.String())
	}
	// The service's counters are kept for the next run's first poll to
	// count from.
	files, _ := filepath.Glob(filepath.Join(state, "*"))
	if len(files) != 1 {
		t.Fatalf("state files %v (%s)", files, out.String())
	}
	if b, _ := os.ReadFile(files[0]); !strings.Contains(string(b), `"stages":{"Staged":100,"Uploaded":500}`) {
		t.Errorf("the counters not kept for the next run: %s", b)
	}
	addr := srv.Listener.Addr().String()
	srv.Close()
	out.Reset()
	start := time.Now()
	code = run(context.Background(), []string{"check", "--state-dir", t.TempDir(), "--counters", "http://" + addr + "/c"}, &out, &errs)
	if code != 3 || !strings.Contains(out.String(), "connection refused") || time.Since(start) > 5*time.Second {
		t.Errorf("refused: exit %d, %q after %v; want UNKNOWN at once", code, out.String(), time.Since(start))
	}
}

// TestExcludeIntegration: --exclude leaves a counters service's queue out
// of everything written, and the other queue in.
func TestExcludeIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t) // polls on the wall clock
	srv := stagesServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs testhub.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--counters", "pipeline=" + srv.URL, "--counters-interval", "1s", "--interval", "1s",
			"--socket-dir=", "--hostname", "h", "--exclude", "^Staged_to_"}, &out, &errs)
	}()
	eventually(t, 20*time.Second, "three snapshots of Uploaded_to_Staged", func() (bool, string) {
		_, bv := putvals(out.String(), "h/pipeline/queue_length-Uploaded_to_Staged_backlog")
		return len(bv) >= 3, out.String()
	})
	cancel()
	<-done
	if strings.Contains(out.String(), "Staged_to_Done") {
		t.Errorf("the queue --exclude matches is written:\n%s", out.String())
	}
}

// stagesServer serves a service's stage counters, Uploaded, Staged and
// Done, growing at 100, 60 and 60 events a second from now.
func stagesServer(t *testing.T) *httptest.Server {
	start := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := time.Since(start).Seconds()
		fmt.Fprintf(w, `{"Uploaded": %d, "Staged": %d, "Done": %d}`, int(100*s), int(60*s), int(60*s))
	}))
	t.Cleanup(srv.Close)
	return srv
}
