package counters

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// TestQueues: queues between successive stages, lengths from the counts,
// headcounts from their growth (a reset counts from 0), and the order of
// the answer's keys kept, or the one given.
func TestQueues(t *testing.T) {
	s := &Source{Service: "counters-pipeline", Interval: time.Second}
	at := time.Unix(1796216400, 0)
	st, _, _, err := parse(strings.NewReader(`{"Uploaded": 120, "Staged": 118, "Plugin": 110, "Processed": 109}`))
	if err != nil {
		t.Fatal(err)
	}
	m := s.snapshot(st, at)
	cs := m.Snapshot.Consumers
	if len(cs) != 3 || cs[0].Name != "Uploaded_to_Staged" || cs[0].Backlog.V != 2 || cs[1].Backlog.V != 8 || cs[2].Backlog.V != 1 || cs[0].HeadcountIn.Valid {
		t.Fatalf("first poll: %+v", cs)
	}
	st = mustParse(t, `{"Uploaded": 150, "Staged": 130, "Plugin": 111, "Processed": 5}`)
	cs = s.snapshot(st, at.Add(time.Second)).Snapshot.Consumers
	if cs[0].HeadcountIn.V != 30 || cs[0].HeadcountOut.V != 12 || cs[2].HeadcountOut.V != 5 {
		t.Errorf("deltas: %+v", cs)
	}
	if m := s.snapshot(mustParse(t, `{"A": 1, "B": 5}`), at); m.Snapshot.Skipped != 1 || len(m.Snapshot.Consumers) != 0 {
		t.Errorf("a later stage ahead of an earlier one: %+v", m.Snapshot)
	}
	s.Order = []string{"Processed", "Uploaded"}
	st, err = s.ordered(mustParse(t, `{"Uploaded": 150, "Processed": 100}`))
	if err != nil || st[0].name != "Processed" {
		t.Errorf("order: %v %v", st, err)
	}
	if _, err := s.ordered(mustParse(t, `{"Uploaded": 1, "Staged": 0}`)); err == nil {
		t.Error("a stage of --counters-order missing: no error")
	}
	for _, bad := range []string{`[1,2]`, `{"A": "x", "B": 1}`, `{"A": -1, "B": 0}`, `{"A": 1}`, `<html>`, `{"A": {"B": 1}}`} {
		if _, _, _, err := parse(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func mustParse(t *testing.T, s string) []stage {
	t.Helper()
	st, _, _, err := parse(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestFieldNotACount: a field that is not a count (a version string, an
// object, a negative number) is left out and counted; the others are
// delivered, with --counters-order too.
func TestFieldNotACount(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"A": 10, "version": "1.2", "build": {"n": 3}, "B": 4, "errors": -1}`)
	}))
	defer srv.Close()
	for _, order := range [][]string{nil, {"A", "B"}} {
		s := &Source{Service: "svc", URL: srv.URL, Interval: time.Second, Order: order}
		m, err := s.Poll(context.Background())
		if err != nil {
			t.Fatalf("order %v: %v", order, err)
		}
		cs := m.Snapshot.Consumers
		if len(cs) != 1 || cs[0].Name != "A_to_B" || cs[0].Backlog.V != 6 || m.Snapshot.Skipped != 3 ||
			m.Snapshot.SkipErr == nil || !strings.Contains(m.Snapshot.SkipErr.Error(), `"version"`) {
			t.Errorf("order %v: queues %+v, %d skipped (%v)", order, cs, m.Snapshot.Skipped, m.Snapshot.SkipErr)
		}
	}
}

// TestRun: polls a small HTTP server, delivers a snapshot a poll, counts
// and logs (once) the polls that fail.
func TestRun(t *testing.T) {
	var mu sync.Mutex
	body, status := `{"In": 10, "Out": 4}`, 200
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	var log testhub.Buffer
	// Credentials in the URL, and a token in its query: never shown.
	url := strings.Replace(srv.URL, "http://", "http://u:s3cret@", 1) + "/c?token=s3cret"
	var clock sync.Mutex
	t0, calls := time.Unix(1796216400, 0), 0
	// Each poll given 300 ms: on a loaded machine a 25-ms time out failed
	// the first one.
	s := &Source{Service: "counters-x", URL: url, Interval: 600 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&log, nil)), Now: func() time.Time {
			clock.Lock()
			defer clock.Unlock()
			calls++
			return t0.Add(time.Duration(calls-1) * 2 * time.Second)
		}}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan model.Message, 100)
	done := make(chan struct{})
	go func() { s.Run(ctx, func(m model.Message) { got <- m }); close(done) }()
	m := <-got
	if m.Snapshot.Consumers[0].Backlog.V != 6 || m.Endpoint.Service != "counters-x" {
		t.Errorf("snapshot %+v", m)
	}
	if want := t0.Add(time.Second); !m.Arrival.Equal(want) {
		t.Errorf("stamped %v, want %v: the middle of the request", m.Arrival, want)
	}
	mu.Lock()
	status, body = 500, "oops"
	mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if w := s.Watched(); len(w) == 1 && w[0].Failed >= 3 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	w := s.Watched()
	if w[0].Failed < 3 || !w[0].Polled || strings.Count(log.String(), "cannot poll") != 1 || w[0].LastError != "status 500 Internal Server Error" {
		t.Errorf("failures %+v, log:\n%s", w, log.String())
	}
	if shown := log.String() + w[0].Endpoint.Addr + m.Endpoint.Addr; strings.Contains(shown, "s3cret") {
		t.Errorf("credentials shown: %s", shown)
	}
}

// TestLatePoll: a poll late by a whole interval (a slow answer, a loaded
// host) counts over twice the time: its period says so, or its rates
// would double.
func TestLatePoll(t *testing.T) {
	s := &Source{Service: "counters-x", Interval: time.Second}
	t0 := time.Unix(1796216400, 0)
	var periods []time.Duration
	for i, at := range []time.Duration{0, time.Second, 3 * time.Second, 3500 * time.Millisecond} {
		m := s.snapshot([]stage{{"In", float64(10 * i)}, {"Out", 0}}, t0.Add(at))
		periods = append(periods, m.Period)
	}
	if fmt.Sprint(periods) != "[1s 1s 2s 1s]" {
		t.Errorf("periods %v, want [1s 1s 2s 1s] (never under the interval)", periods)
	}
}

// TestResumeState: a check's next run takes up the counters of the run
// before: its first snapshot counts since then, over the whole gap. What
// is not such a state is refused, and nothing taken.
func TestResumeState(t *testing.T) {
	at := time.Unix(1796216400, 0)
	before := &Source{Service: "counters-pipeline", Interval: time.Second}
	if raw, _ := before.SaveState(nil); raw != nil {
		t.Errorf("a state before any snapshot: %s", raw)
	}
	before.snapshot(mustParse(t, `{"In": 100, "Out": 90}`), at)
	raw, err := before.SaveState([]string{"In_to_Out"})
	if err != nil || raw == nil {
		t.Fatalf("SaveState: %s %v", raw, err)
	}
	next := &Source{Service: "counters-pipeline", Interval: time.Second}
	if err := next.ResumeState(raw); err != nil {
		t.Fatal(err)
	}
	m := next.snapshot(mustParse(t, `{"In": 700, "Out": 640}`), at.Add(time.Minute))
	c := m.Snapshot.Consumers[0]
	if c.HeadcountIn.V != 600 || c.HeadcountOut.V != 550 || m.Period != time.Minute {
		t.Errorf("first snapshot after the resume: in %v out %v over %v; want 600, 550 over 1m", c.HeadcountIn, c.HeadcountOut, m.Period)
	}
	for _, bad := range []string{`{"at": "2026-12-07T00:00:00Z", "stages": {"In": -1}}`, `{"stages": {"In": 1}}`,
		`{"at": "2026-12-07T00:00:00Z", "stages": {}}`, `{"at": "2026-12-07T00:00:00Z", "stages": {"In": "x"}}`, `[1]`, `{`} {
		fresh := &Source{Service: "counters-pipeline", Interval: time.Second}
		if err := fresh.ResumeState(json.RawMessage(bad)); err == nil {
			t.Errorf("%s: taken", bad)
		}
		if fresh.prev != nil || !fresh.last.IsZero() {
			t.Errorf("%s: refused, yet %v %v kept", bad, fresh.prev, fresh.last)
		}
	}
	var many strings.Builder
	many.WriteString(`{"at": "2026-12-07T00:00:00Z", "stages": {`)
	for i := range maxStateStages + 1 {
		fmt.Fprintf(&many, "%q: %d,", fmt.Sprint("s", i), i)
	}
	if err := (&Source{}).ResumeState(json.RawMessage(strings.TrimSuffix(many.String(), ",") + "}}")); err == nil {
		t.Error("more stages than a state holds: taken")
	}
}
