package rabbitmq

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// broker is a stand-in management API answering with the body set last,
// or live to a request of lengths now when set.
type broker struct {
	mu   sync.Mutex
	body string
	live string
	// overview answers /api/overview; none, a 404.
	overview string
	status   int
	delay    time.Duration
	reqs     []*http.Request
}

func (b *broker) set(status int, body string) {
	b.mu.Lock()
	b.status, b.body = status, body
	b.mu.Unlock()
}

func (b *broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	if strings.HasSuffix(r.URL.Path, "/api/overview") {
		ov := b.overview
		b.mu.Unlock()
		if ov == "" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, ov)
		return
	}
	b.reqs = append(b.reqs, r)
	status, body, delay := b.status, b.body, b.delay
	if b.live != "" && r.URL.Query().Get("disable_stats") == "true" {
		body = b.live
	}
	b.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

func queues(pub, del float64) string {
	return fmt.Sprintf(`[{"name":"fmn","vhost":"/pubsub","messages_ready":40,"messages_unacknowledged":2,"consumers":1,
	  "message_stats":{"publish":%v,"deliver_get":%v}},
	 {"name":"idle","vhost":"/pubsub","messages_ready":0,"messages_unacknowledged":0,"consumers":0},
	 {"name":"other","vhost":"/","messages_ready":-1,"consumers":3}]`, pub, del)
}

var clock = time.Unix(1796216400, 0)

// poll polls once, MinSpacing after the previous poll, and returns the
// snapshots by service.
func poll(t *testing.T, s *Source) (map[string]model.Message, error) {
	t.Helper()
	qs, _, _, err := s.reader.fetch(context.Background())
	if err != nil {
		return nil, err
	}
	clock = clock.Add(MinSpacing)
	out := map[string]model.Message{}
	for _, m := range s.snapshots(qs, clock) {
		out[m.Endpoint.Service] = m
	}
	return out, nil
}

// TestPoll: the narrow request with credentials from the URL, a snapshot
// per vhost, counter deltas from the second poll on (a counter that goes
// back is a reset), bad fields counted and left out, queue selection.
func TestPoll(t *testing.T) {
	b := &broker{}
	srv := httptest.NewServer(b)
	defer srv.Close()
	s := &Source{URL: strings.Replace(srv.URL, "http://", "http://mon:s3cret@", 1), Interval: time.Second}
	s.init()
	b.set(200, queues(100, 90))
	msgs, err := poll(t, s)
	if err != nil {
		t.Fatal(err)
	}
	r := b.reqs[0]
	if u, p, _ := r.BasicAuth(); u != "mon" || p != "s3cret" || r.URL.Path != "/api/queues" || r.URL.Query().Get("columns") != Columns {
		t.Errorf("request %s %q, auth %s:%s", r.Method, r.URL, u, p)
	}
	pubsub, def := msgs["fedmsg_rabbitmq-pubsub"], msgs["fedmsg_rabbitmq-default"]
	if len(msgs) != 2 || pubsub.Snapshot == nil || def.Snapshot == nil {
		t.Fatalf("services: %+v", msgs)
	}
	if strings.Contains(pubsub.Endpoint.Addr, "s3cret") {
		t.Errorf("credentials in the endpoint shown: %s", pubsub.Endpoint.Addr)
	}
	fmn := pubsub.Snapshot.Consumers[0]
	if fmn.Backlog.V != 40 || fmn.InService.V != 2 || fmn.Workers.V != 1 || fmn.HeadcountIn.Valid {
		t.Errorf("first poll: %+v", fmn)
	}
	if other := def.Snapshot; other.Skipped != 1 || len(other.Consumers) != 0 {
		t.Errorf("a negative backlog: %+v", other)
	}
	// The broker's statistics not refreshed yet: no snapshot, and the
	// next delta spans both polls.
	msgs, _ = poll(t, s)
	if len(msgs) != 0 {
		t.Errorf("unchanged figures gave snapshots: %+v", msgs)
	}
	b.set(200, queues(130, 110))
	msgs, _ = poll(t, s)
	if len(msgs) != 1 || msgs["fedmsg_rabbitmq-pubsub"].Period != 2*MinSpacing {
		t.Fatalf("after a refresh: %+v", msgs)
	}
	pubsub = msgs["fedmsg_rabbitmq-pubsub"]
	if fmn := pubsub.Snapshot.Consumers[0]; fmn.HeadcountIn.V != 30 || fmn.HeadcountOut.V != 20 {
		t.Errorf("deltas: in %v out %v, want 30 and 20", fmn.HeadcountIn, fmn.HeadcountOut)
	}
	if idle := pubsub.Snapshot.Consumers[1]; idle.HeadcountIn.V != 0 || !idle.HeadcountIn.Valid {
		t.Errorf("a queue without message_stats: %+v", idle)
	}
	b.set(200, queues(5, 4)) // the broker restarted
	msgs, _ = poll(t, s)
	if fmn := msgs["fedmsg_rabbitmq-pubsub"].Snapshot.Consumers[0]; fmn.HeadcountIn.V != 5 || fmn.HeadcountOut.V != 4 {
		t.Errorf("after a reset: in %v out %v, want 5 and 4", fmn.HeadcountIn, fmn.HeadcountOut)
	}
	// Unchanged figures still give a snapshot when the last is stale.
	clock = clock.Add(staleAfter)
	msgs, _ = poll(t, s)
	if len(msgs) != 2 {
		t.Errorf("stale: %d snapshots, want 2", len(msgs))
	}
	s.Queues = regexp.MustCompile("^fmn$")
	b.set(200, queues(6, 5))
	msgs, _ = poll(t, s)
	if m := msgs["fedmsg_rabbitmq-pubsub"]; m.Snapshot == nil || len(m.Snapshot.Consumers) != 1 {
		t.Errorf("selection: %+v", msgs)
	}
	s.VHost, s.User, s.Password = "/pubsub", "other", "pw"
	poll(t, s)
	r = b.reqs[len(b.reqs)-1]
	if u, _, _ := r.BasicAuth(); r.URL.EscapedPath() != "/api/queues/%2Fpubsub" || u != "other" {
		t.Errorf("vhost request %q as %s", r.URL.EscapedPath(), u)
	}
}

// TestLiveLengths: a poll's lengths are those of its second request,
// made with disable_stats, and its time the middle of that request; when
// only those changed, the broker's statistics were not refreshed and no
// snapshot is made. A live entry that is not a count leaves the lengths
// of the statistics, uncounted.
func TestLiveLengths(t *testing.T) {
	b := &broker{}
	srv := httptest.NewServer(b)
	defer srv.Close()
	var ticks []time.Time
	s := &Source{URL: srv.URL, Interval: time.Second, Now: func() time.Time {
		ticks = append(ticks, clock.Add(time.Duration(len(ticks))*3*time.Second))
		return ticks[len(ticks)-1]
	}}
	s.init()
	b.set(200, queues(10, 5))
	b.live = `[{"name":"fmn","vhost":"/pubsub","messages_ready":55,"messages_unacknowledged":3},
	  {"name":"idle","vhost":"/pubsub","messages_ready":-4,"messages_unacknowledged":"x"}]`
	var got []model.Message
	s.pollOnce(context.Background(), func(m model.Message) { got = append(got, m) })
	if len(got) != 3 || got[1].Endpoint.Service != "fedmsg_rabbitmq-pubsub" {
		t.Fatalf("delivered %+v", got)
	}
	fmn, idle := got[1].Snapshot.Consumers[0], got[1].Snapshot.Consumers[1]
	if fmn.Backlog.V != 55 || fmn.InService.V != 3 || fmn.Workers.V != 1 {
		t.Errorf("fmn: %+v, want the live lengths 55 and 3, 1 consumer", fmn)
	}
	if idle.Backlog.V != 0 || !idle.Backlog.Valid || got[1].Snapshot.Skipped != 0 {
		t.Errorf("idle: %+v, skipped %d: want the statistics' 0, nothing counted", idle, got[1].Snapshot.Skipped)
	}
	if want := ticks[0].Add(ticks[1].Sub(ticks[0]) / 2); !got[1].Arrival.Equal(want) {
		t.Errorf("stamped %v, want %v, halfway through the request of lengths", got[1].Arrival, want)
	}
	b.mu.Lock()
	b.live = strings.Replace(b.live, "55", "70", 1)
	b.mu.Unlock()
	got = nil
	s.pollOnce(context.Background(), func(m model.Message) { got = append(got, m) })
	if len(got) != 1 || !got[0].Heartbeat {
		t.Errorf("only the live lengths changed, %v later: delivered %+v, want the heartbeat alone", got[0].Arrival.Sub(ticks[0]), got)
	}
	if r := b.reqs[1]; r.URL.Query().Get("columns") != LiveColumns || r.URL.Query().Get("enable_queue_totals") != "true" {
		t.Errorf("request of lengths now: %q", r.URL)
	}
}

// TestBadAnswers: down, 401, 500, HTML, a huge answer, a slow one: each a
// failed poll, counted, logged at most once a minute; nothing delivered.
func TestBadAnswers(t *testing.T) {
	b := &broker{}
	srv := httptest.NewServer(b)
	var log strings.Builder
	s := &Source{URL: srv.URL, Interval: 400 * time.Millisecond, MaxBody: 1 << 10}
	s.init()
	s.Logger = slogTo(&log)
	b.set(200, queues(1, 1))
	delivered := 0
	s.pollOnce(context.Background(), func(model.Message) { delivered++ })
	for _, tt := range []struct {
		status int
		body   string
		delay  time.Duration
	}{
		{401, `{"error":"not_authorised"}`, 0},
		{500, "boom", 0},
		{200, "<html>login</html>", 0},
		{200, "[" + strings.Repeat(`{"name":"q"},`, 200) + `{"name":"q"}]`, 0},
		{200, queues(1, 1), time.Second}, // longer than the timeout
	} {
		b.set(tt.status, tt.body)
		b.mu.Lock()
		b.delay = tt.delay
		b.mu.Unlock()
		s.pollOnce(context.Background(), func(model.Message) { delivered++ })
	}
	srv.Close()
	s.pollOnce(context.Background(), func(model.Message) { delivered++ }) // down
	w := s.Watched()
	if delivered != 3 || len(w) != 3 || w[0].Failed != 6 || w[0].Oversize != 1 || !w[0].Polled || w[1].Failed != 6 {
		t.Errorf("delivered %d (2 snapshots and a heartbeat), watched %+v", delivered, w)
	}
	if !strings.Contains(w[0].LastError, "connection refused") || strings.Contains(w[0].LastError, srv.URL) {
		t.Errorf("last error %q: want why, without the URL", w[0].LastError)
	}
	if n := strings.Count(log.String(), "cannot poll"); n != 1 {
		t.Errorf("%d log lines in a minute, want 1:\n%s", n, log.String())
	}
}

func slogTo(b *strings.Builder) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, nil))
}

// TestEveryPollASnapshot: polled every 10 s (the default), a poll whose
// timer ran a little early makes its snapshot although the figures are
// unchanged (no 20-s gaps); polled every second, the polls whose figures
// are as at the last snapshot make none and are counted.
func TestEveryPollASnapshot(t *testing.T) {
	b := &broker{}
	srv := httptest.NewServer(b)
	defer srv.Close()
	b.set(200, queues(100, 90))
	for _, tt := range []struct {
		interval, every time.Duration
		snapshots       int
		unchanged       int64
	}{
		{10 * time.Second, 9900 * time.Millisecond, 5, 0},
		{time.Second, time.Second, 1, 9}, // the next after 10 s
	} {
		s := &Source{URL: srv.URL, Interval: tt.interval}
		s.init()
		n := 0
		for i := range 10 {
			if i > 0 {
				clock = clock.Add(tt.every - MinSpacing) // poll adds MinSpacing
			}
			msgs, _ := poll(t, s)
			if _, ok := msgs["fedmsg_rabbitmq-pubsub"]; ok {
				n++
			}
			if i == 4 && tt.interval == 10*time.Second {
				break
			}
		}
		var unchanged int64 = -1
		for _, w := range s.Watched() {
			if w.Endpoint.Service == "fedmsg_rabbitmq-pubsub" {
				unchanged = w.Unchanged
			}
		}
		if n != tt.snapshots || unchanged != tt.unchanged {
			t.Errorf("every %v at an interval of %v: %d snapshots, %d polls unchanged; want %d and %d",
				tt.every, tt.interval, n, unchanged, tt.snapshots, tt.unchanged)
		}
	}
}

// TestExclude: --rabbitmq-queues-exclude leaves out the queues it
// matches, beside --rabbitmq-queues' selection; a bad pattern is refused.
func TestExclude(t *testing.T) {
	b := &broker{}
	srv := httptest.NewServer(b)
	defer srv.Close()
	b.set(200, queues(100, 90))
	s := &Source{URL: srv.URL, Interval: time.Second, Exclude: regexp.MustCompile("^idle$")}
	s.init()
	msgs, _ := poll(t, s)
	var names []string
	for _, c := range msgs["fedmsg_rabbitmq-pubsub"].Snapshot.Consumers {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "fmn" {
		t.Errorf("queues %v, want fmn alone", names)
	}
	if _, err := (Config{URLs: []string{srv.URL}, Interval: time.Second, Exclude: "(("}).Sources(nil); err == nil ||
		!strings.Contains(err.Error(), "--rabbitmq-queues-exclude") {
		t.Errorf("a bad pattern: %v", err)
	}
}

// TestLengthsWhenMoved: the lengths now are asked for only when the
// statistics moved since the previous poll; otherwise those asked last
// stand, at the poll's moment. A queue without statistics has them asked
// at every poll.
func TestLengthsWhenMoved(t *testing.T) {
	b := &broker{}
	s, now := polledSource(t, b)
	b.set(200, queues(10, 5))
	b.live = `[{"name":"fmn","vhost":"/pubsub","messages_ready":55,"messages_unacknowledged":3},
	  {"name":"idle","vhost":"/pubsub","messages_ready":0,"messages_unacknowledged":0}]`
	asked := func() int {
		b.mu.Lock()
		defer b.mu.Unlock()
		n := 0
		for _, r := range b.reqs {
			if r.URL.Query().Get("disable_stats") == "true" {
				n++
			}
		}
		return n
	}
	step := func(stats string, wantAsked int) model.Message {
		t.Helper()
		b.set(200, stats)
		m := pollPubsub(t, s, now)
		if n := asked(); n != wantAsked {
			t.Fatalf("lengths asked %d times, want %d", n, wantAsked)
		}
		return m
	}
	step(queues(10, 5), 1)
	m := step(queues(10, 5), 1) // nothing moved: not asked
	if fmn := m.Snapshot.Consumers[0]; fmn.Backlog.V != 55 || fmn.InService.V != 3 || !m.Arrival.Equal(*now) {
		t.Errorf("unchanged: %+v at %v, want the lengths asked before, 55 and 3, at %v", fmn, m.Arrival, *now)
	}
	b.mu.Lock()
	b.live = strings.Replace(b.live, "55", "61", 1)
	b.mu.Unlock()
	m = step(queues(16, 5), 2) // messages came: asked
	if fmn := m.Snapshot.Consumers[0]; fmn.Backlog.V != 61 {
		t.Errorf("moved: backlog %v, want 61", fmn.Backlog)
	}
	// Consumers attached, nothing else: asked.
	step(strings.Replace(queues(16, 5), `"consumers":1`, `"consumers":2`, 1), 3)
	// A queue just made, without statistics yet: asked at every poll.
	fresh := strings.Replace(queues(16, 5), `{"name":"idle","vhost":"/pubsub","messages_ready":0,"messages_unacknowledged":0,"consumers":0}`,
		`{"name":"idle","vhost":"/pubsub"}`, 1)
	step(fresh, 4)
	step(fresh, 5)
}

// polledSource returns a source polling b every 10 s, on a clock of the
// test's own that pollPubsub moves on.
func polledSource(t *testing.T, b *broker) (*Source, *time.Time) {
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	now := clock
	s := &Source{URL: srv.URL, Interval: 10 * time.Second, Now: func() time.Time { return now }}
	s.init()
	return s, &now
}

// pollPubsub moves now 10 s on, polls s once and returns its snapshot of
// the vhost /pubsub.
func pollPubsub(t *testing.T, s *Source, now *time.Time) model.Message {
	t.Helper()
	*now = now.Add(10 * time.Second)
	var got []model.Message
	s.pollOnce(context.Background(), func(m model.Message) { got = append(got, m) })
	for _, m := range got {
		if m.Endpoint.Service == "fedmsg_rabbitmq-pubsub" && m.Snapshot != nil {
			return m
		}
	}
	t.Fatalf("no snapshot of /pubsub in %+v", got)
	return model.Message{}
}
