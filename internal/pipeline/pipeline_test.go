package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/report"
	"github.com/fedora-infra/fedmsg-collectd/internal/sink/putval"
	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

var (
	t0     = time.Unix(1795516100, 250e6)
	testEP = model.Endpoint{Service: "fedmsg-hub", Addr: "ipc:///var/run/fedmsg/monitoring-fedmsg-hub.socket"}
)

// fixture reads a real hub's message from the model's testdata.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("../model/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// sequence is what a hub publishing every 5 s delivers: the captures in
// turn, period known from the second message on.
func sequence(t testing.TB, n int) []model.Message {
	var ms []model.Message
	names := []string{"ipc-01.json", "ipc-06.json", "ipc-12.json"}
	for i := range n {
		period := 5 * time.Second
		if i == 0 {
			period = 0
		}
		ms = append(ms, model.Message{Endpoint: testEP, Raw: fixture(t, names[i%3]),
			Arrival: t0.Add(time.Duration(i) * 5 * time.Second), Period: period, Session: 1})
	}
	return ms
}

// chanSource delivers what the test sends on in, and reports watched.
type chanSource struct {
	in        chan model.Message
	watched   []model.Watched
	done      chan struct{} // closed when Run returns
	delivered chan struct{} // a token once each message is delivered
}

func newChanSource(watched ...model.Endpoint) *chanSource {
	s := &chanSource{in: make(chan model.Message), done: make(chan struct{}), delivered: make(chan struct{}, 1000)}
	for _, ep := range watched {
		s.watched = append(s.watched, model.Watched{Endpoint: ep, Sessions: 1})
	}
	return s
}

func (s *chanSource) Run(ctx context.Context, deliver func(model.Message)) {
	defer close(s.done)
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-s.in:
			deliver(m)
			s.delivered <- struct{}{}
		}
	}
}

func (s *chanSource) Watched() []model.Watched { return s.watched }

// recordSink formats what it is given as collectd would receive it and
// signals each write.
type recordSink struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	sink    *putval.Sink
	wrote   chan string // each write's text
	block   chan struct{}
	blocked chan struct{} // closed once a write is blocked on block
	failAt  int           // fail the write of this number (1-based); 0: never
	n       int
}

func newRecordSink() *recordSink {
	r := &recordSink{wrote: make(chan string, 100)}
	r.sink = putval.NewSink(&r.buf, "myhost")
	return r
}

func (r *recordSink) Write(u report.Update) error {
	if r.block != nil {
		select {
		case <-r.blocked:
		default:
			close(r.blocked)
		}
		<-r.block
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if r.n == r.failAt {
		return errors.New("broken pipe")
	}
	start := r.buf.Len()
	if err := r.sink.Write(u); err != nil {
		return err
	}
	if r.buf.Len() > start { // what collectd's rules left out writes nothing
		r.wrote <- r.buf.String()[start:]
	}
	return nil
}

// run starts Run and returns a function that stops it and returns its error.
func run(t *testing.T, cfg Config, src Source, sink Sink) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, cfg, src, sink) }()
	return func() error {
		cancel()
		select {
		case err := <-errc:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return within 5s of cancel")
			return nil
		}
	}
}

// waitFor waits until cond holds, for at most 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func waitWrite(t *testing.T, r *recordSink) string {
	t.Helper()
	select {
	case s := <-r.wrote:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("nothing written within 5s")
		return ""
	}
}

// TestRunMatchesReplay: the live pipeline writes, for messages delivered
// one by one, byte for byte what Replay writes for the same messages.
func TestRunMatchesReplay(t *testing.T) {
	msgs := sequence(t, 7)
	// Every message written, so that the test can wait for each: the
	// outbox keeps only the newest message of an endpoint.
	msgs[0].Period = 5 * time.Second
	var want bytes.Buffer
	i := 0
	bad, err := Replay(func() (model.Message, error) {
		if i == len(msgs) {
			return model.Message{}, io.EOF
		}
		i++
		return msgs[i-1], nil
	}, NewHubs(time.Minute, nil), putval.NewSink(&want, "myhost"), func(err error) { t.Error(err) })
	if bad != 0 || err != nil {
		t.Fatalf("Replay: %d bad, %v", bad, err)
	}
	if n := strings.Count(want.String(), "count-consumers"); n != len(msgs) {
		t.Fatalf("replay wrote %d snapshots, want %d", n, len(msgs))
	}

	src, sink := newChanSource(testEP), newRecordSink()
	stop := run(t, Config{Interval: time.Hour, IdlePeriods: 3, Smoothing: time.Minute, Tick: make(chan time.Time)}, src, sink)
	var got strings.Builder
	for _, m := range msgs {
		src.in <- m
		got.WriteString(waitWrite(t, sink))
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want.String(), got.String()); d != "" {
		t.Errorf("live differs from replay (-replay +live):\n%s", d)
	}
}

// TestHubsWritePolicy: every snapshot is derived and handed on, but the
// collectd sink writes neither an endpoint's first (its period unknown)
// nor a second one within the same second; a message that does not decode
// is an error and counted.
func TestHubsWritePolicy(t *testing.T) {
	hs := NewHubs(time.Minute, nil)
	var out bytes.Buffer
	sink := putval.NewSink(&out, "myhost")
	msgs := sequence(t, 3)
	dup := msgs[1]
	dup.Arrival = dup.Arrival.Add(300 * time.Millisecond)
	bad := msgs[2]
	bad.Raw = []byte(`{"consumers": 5}`)
	for i, tt := range []struct {
		m     model.Message
		write bool
		err   bool
	}{{msgs[0], false, false}, {msgs[1], true, false}, {dup, false, false}, {bad, false, true}, {msgs[2], true, false}} {
		b, err := hs.Add(tt.m)
		out.Reset()
		if err == nil {
			if err := sink.Write(report.Update{Snapshots: []report.Batch{b}}); err != nil {
				t.Fatal(err)
			}
		}
		write := out.Len() > 0
		if write != tt.write || (err != nil) != tt.err {
			t.Errorf("message %d: write %v, error %v; want %v, %v", i, write, err, tt.write, tt.err)
		}
		if err == nil && (b.Service != "fedmsg-hub" || !b.Time.Equal(tt.m.Arrival) || len(b.Values) == 0) {
			t.Errorf("message %d: batch %s at %v with %d values", i, b.Service, b.Time, len(b.Values))
		}
	}
	if h := hs.hubs[testEP]; h.snapshots != 4 || h.errors != 1 {
		t.Errorf("counted %d snapshots, %d errors; want 4, 1", h.snapshots, h.errors)
	}
}

// TestRunLiveness: on each tick, testEP liveness and the program's own
// values; a testEP never heard raises one failure, a message an okay.
func TestRunLiveness(t *testing.T) {
	src, sink := newChanSource(testEP), newRecordSink()
	tick := make(chan time.Time)
	logs := new(testhub.Buffer)
	log := slog.New(slog.NewTextHandler(logs, nil))
	stop := run(t, Config{Interval: 10 * time.Second, IdlePeriods: 3, Smoothing: time.Minute, Tick: tick, Logger: log}, src, sink)
	tick <- t0
	first := waitWrite(t, sink)
	for _, want := range []string{
		`"myhost/fedmsg-collectd/derive-fedmsg-hub_snapshots" interval=10.000 1795516100.250:0`,
		`derive-fedmsg-hub_reconnects" interval=10.000 1795516100.250:0`,
		`gauge-goroutines"`, `memory-go_total"`,
	} {
		if !strings.Contains(first, want) {
			t.Errorf("first tick: no %s in\n%s", want, first)
		}
	}
	if strings.Contains(first, "hub_up") {
		t.Errorf("hub_up within the grace time:\n%s", first)
	}
	tick <- t0.Add(16 * time.Second)
	lost := waitWrite(t, sink)
	for _, want := range []string{
		`PUTVAL "myhost/fedmsg-hub/bool-hub_up" interval=10.000 1795516116.250:0`,
		`PUTNOTIF severity=failure time=1795516116.250 host="myhost" plugin="fedmsg" plugin_instance="hub" type="bool" type_instance="hub_up" message="fedmsg hub fedmsg-hub: no snapshot on`,
	} {
		if !strings.Contains(lost, want) {
			t.Errorf("after 16 s: no %s in\n%s", want, lost)
		}
	}
	// Garbage: counted and logged, no okay (not a snapshot); then a
	// snapshot: okay.
	for i, raw := range []string{"garbage", "{}"} {
		src.in <- model.Message{Endpoint: testEP, Raw: []byte(raw), Arrival: t0.Add(17 * time.Second), Period: 5 * time.Second, Session: 1}
		if i == 0 {
			waitFor(t, func() bool { return strings.Contains(logs.String(), "not a monitoring snapshot") })
		}
	}
	src.in <- model.Message{Endpoint: testEP, Raw: fixture(t, "ipc-12.json"), Arrival: t0.Add(18 * time.Second), Period: 5 * time.Second, Session: 1}
	back := waitWrite(t, sink)
	if !strings.Contains(back, `PUTNOTIF severity=okay time=1795516118.250`) || !strings.Contains(back, "heard again") {
		t.Errorf("no okay when heard again:\n%s", back)
	}
	tick <- t0.Add(20 * time.Second)
	self := waitWrite(t, sink)
	for _, want := range []string{
		`bool-hub_up" interval=10.000 1795516120.250:1`,
		`derive-fedmsg-hub_snapshots" interval=10.000 1795516120.250:1`,
		`derive-fedmsg-hub_decode_errors" interval=10.000 1795516120.250:`, // 1 or 2: "{}" may replace "garbage"
		`duration-latency_p99"`,
	} {
		if !strings.Contains(self, want) {
			t.Errorf("after a snapshot: no %s in\n%s", want, self)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "not a monitoring snapshot"); n != 1 {
		t.Errorf("%d log lines about bad messages, want 1 (rate-limited):\n%s", n, logs.String())
	}
}

// TestRunStalledSink: while the sink does not return, the source is
// never held up; the newest outboxDepth messages are kept and written one
// update each, the ones pushed out before them counted as dropped.
func TestRunStalledSink(t *testing.T) {
	src, sink := newChanSource(testEP), newRecordSink()
	sink.block, sink.blocked = make(chan struct{}), make(chan struct{})
	tick := make(chan time.Time, 1)
	var mu sync.Mutex
	var seen []model.Message
	onMessage := func(m model.Message) {
		mu.Lock()
		seen = append(seen, m)
		mu.Unlock()
	}
	stop := run(t, Config{Interval: 10 * time.Second, IdlePeriods: 3, Smoothing: time.Minute, Tick: tick, OnMessage: onMessage}, src, sink)
	tick <- t0 // a write, which blocks
	select {
	case <-sink.blocked:
	case <-time.After(5 * time.Second):
		t.Fatal("the tick's write did not start within 5s")
	}
	msgs := sequence(t, 50)
	go func() {
		for _, m := range msgs {
			src.in <- m
		}
	}()
	for range msgs {
		select {
		case <-src.delivered:
		case <-time.After(5 * time.Second):
			t.Fatal("the source was held up by a stalled sink")
		}
	}
	close(sink.block)
	waitWrite(t, sink) // the tick's
	for range outboxDepth {
		waitWrite(t, sink) // the newest snapshots, one update each
	}
	tick <- t0.Add(10 * time.Second)
	self := waitWrite(t, sink)
	want := fmt.Sprintf(`derive-fedmsg-hub_dropped_snapshots" interval=10.000 1795516110.250:%d`, len(msgs)-outboxDepth)
	if !strings.Contains(self, want) {
		t.Errorf("want %s in\n%s", want, self)
	}
	// What a capture records is what was taken in: the newest, in order.
	mu.Lock()
	if len(seen) != outboxDepth {
		t.Errorf("OnMessage saw %d messages, want the newest %d", len(seen), outboxDepth)
	}
	for i, m := range seen {
		if want := msgs[len(msgs)-len(seen)+i].Arrival; !m.Arrival.Equal(want) {
			t.Errorf("message %d taken in arrived at %v, want %v", i, m.Arrival, want)
		}
	}
	mu.Unlock()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestRunSinkError: a sink that fails ends Run with its error.
func TestRunSinkError(t *testing.T) {
	src, sink := newChanSource(testEP), newRecordSink()
	sink.failAt = 1
	tick := make(chan time.Time, 1)
	ctx := context.Background()
	tick <- t0
	err := Run(ctx, Config{Interval: time.Second, IdlePeriods: 3, Smoothing: time.Minute, Tick: tick}, src, sink)
	if err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("Run = %v, want the sink's error", err)
	}
	select {
	case <-src.done:
	case <-time.After(5 * time.Second):
		t.Error("the source still runs after Run returned")
	}
}
