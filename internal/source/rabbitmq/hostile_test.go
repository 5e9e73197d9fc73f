package rabbitmq

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/httppoll"
)

// collect polls s once and returns what it delivered, by service.
func collect(s *Source) map[string]model.Message {
	out := map[string]model.Message{}
	s.pollOnce(context.Background(), func(m model.Message) { out[m.Endpoint.Service] = m })
	return out
}

func brokerFor(t *testing.T, body string) (*broker, *Source) {
	b := &broker{}
	b.set(200, body)
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	s := &Source{URL: srv.URL, Interval: time.Second, Now: func() time.Time { return clock }}
	s.init()
	return b, s
}

// TestBadFieldSpoilsItsQueue: a string, a number out of range, a name that
// is not a string, an entry that is not an object, one without a name:
// each is left out and counted; the other queues are delivered.
func TestBadFieldSpoilsItsQueue(t *testing.T) {
	body := `[{"name":"a","vhost":"/","messages_ready":1},
	 {"name":"b","vhost":"/","messages_ready":"7"},
	 {"name":"c","vhost":"/","messages_ready":1e400},
	 {"name":3,"vhost":"/","messages_ready":1},
	 17, "x", [1,2],
	 {"vhost":"/","messages_ready":1},
	 {"name":"d","vhost":"/","messages_ready":2,"message_stats":[]},
	 {"name":"e","vhost":"/","messages_ready":3,"message_stats":{"publish":{"deep":1}}}]`
	_, s := brokerFor(t, body)
	got := collect(s)
	m := got["fedmsg_rabbitmq-default"]
	if m.Snapshot == nil {
		t.Fatalf("no snapshot: %+v", got)
	}
	var names []string
	for _, c := range m.Snapshot.Consumers {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "a,d" {
		t.Errorf("queues delivered %v, want a,d", names)
	}
	if w := s.Watched()[0]; w.Skipped != 8 || w.Failed != 0 {
		t.Errorf("broker: %d entries counted as skipped (want 8), %d failed polls", w.Skipped, w.Failed)
	}
	if !got["fedmsg_rabbitmq"].Heartbeat {
		t.Errorf("no heartbeat of the broker: %+v", got)
	}
}

// TestQueueCap: past MaxQueues the queues are counted, logged once, and
// left out; the first ones are delivered.
func TestQueueCap(t *testing.T) {
	var qs []string
	for i := range 50 {
		qs = append(qs, fmt.Sprintf(`{"name":"q%02d","vhost":"/","messages_ready":%d}`, i, i))
	}
	_, s := brokerFor(t, "["+strings.Join(qs, ",")+"]")
	s.MaxQueues = 10
	var log strings.Builder
	s.Logger = slogTo(&log)
	for range 3 {
		m := collect(s)["fedmsg_rabbitmq-default"]
		if n := len(m.Snapshot.Consumers); n != 10 || m.Snapshot.Consumers[9].Name != "q09" {
			t.Fatalf("%d queues delivered, want the first 10", n)
		}
		clock = clock.Add(staleAfter)
	}
	if w := s.Watched()[0]; w.Skipped != 3*40 {
		t.Errorf("skipped %d, want 120", w.Skipped)
	}
	if n := strings.Count(log.String(), "rabbitmq-max-queues"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, log.String())
	}
}

// endless serves an answer that never ends: head, then fill forever, and
// counts the bytes it could write.
type endless struct {
	head, fill string
	wrote      atomic.Int64
}

func (e *endless) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n, _ := fmt.Fprint(w, e.head)
	chunk := strings.Repeat(e.fill, 32<<10/len(e.fill))
	for {
		k, err := fmt.Fprint(w, chunk)
		n += k
		e.wrote.Store(int64(n))
		if err != nil || r.Context().Err() != nil {
			return
		}
	}
}

// TestEndlessAnswers: one endless queue name, and an endless list of
// queues, each fail the poll without the plugin reading (so holding) more
// than the bound for one entry, resp. the body.
func TestEndlessAnswers(t *testing.T) {
	for _, tt := range []struct {
		name       string
		e          *endless
		maxBody    int64
		want       string
		readAtMost int64
	}{
		// The kernel's socket buffers on loopback hold several MiB more.
		{"one endless entry", &endless{head: `[{"name":"`, fill: "a"}, DefaultMaxBody, "over 256 KiB", 16 << 20},
		{"endless list", &endless{head: `[`, fill: `{"name":"q","vhost":"/","messages_ready":1},`}, 8 << 20, "over the size limit", 24 << 20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.e)
			defer srv.Close()
			s := &Source{URL: srv.URL, Interval: 20 * time.Second, MaxBody: tt.maxBody, MaxQueues: 5}
			s.init()
			_, _, _, err := s.reader.fetch(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			// What the server could write is what the plugin read, plus
			// what the kernel's socket buffers held.
			if n := tt.e.wrote.Load(); n > tt.readAtMost {
				t.Errorf("the server wrote %d bytes before the plugin stopped reading, want at most %d", n, tt.readAtMost)
			}
		})
	}
}

// TestRedirects: a redirect to another port of the same host is not
// followed (the credentials stay, and its queues are not the broker's); one
// on the same server is.
func TestRedirects(t *testing.T) {
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		fmt.Fprint(w, `[{"name":"evil","vhost":"/","messages_ready":1}]`)
	}))
	defer other.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/away/api/queues", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/api/queues", http.StatusFound)
	})
	mux.HandleFunc("/here/api/queues", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/real/api/queues", http.StatusFound)
	})
	mux.HandleFunc("/real/api/queues", func(w http.ResponseWriter, r *http.Request) {
		if u, _, _ := r.BasicAuth(); u != "mon" {
			http.Error(w, "who?", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `[{"name":"good","vhost":"/","messages_ready":1}]`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	s := &Source{URL: srv.URL + "/away", User: "mon", Password: "s3cret", Interval: time.Second}
	s.init()
	if got := collect(s); len(got) != 0 {
		t.Errorf("delivered %+v from a redirect to another port", got)
	}
	w := s.Watched()[0]
	if leaked.Load() != 0 || w.Failed != 1 || !strings.Contains(w.LastError, "not followed") || !httppoll.Permanent(fmt.Errorf("x: %w", httppoll.ErrRedirect)) {
		t.Errorf("credentials sent %d times; broker %+v", leaked.Load(), w)
	}
	s = &Source{URL: srv.URL + "/here", User: "mon", Password: "s3cret", Interval: time.Second}
	s.init()
	if m := collect(s)["fedmsg_rabbitmq-default"]; m.Snapshot == nil || m.Snapshot.Consumers[0].Name != "good" {
		t.Errorf("a redirect on the same server was not followed: %+v", m)
	}
}

// TestNeverAnswers: a broker that never answers is watched from the
// start, its failed polls counted from the first, with why.
func TestNeverAnswers(t *testing.T) {
	b, s := brokerFor(t, "")
	b.set(401, "")
	if w := s.Watched(); len(w) != 1 || w[0].Endpoint.Service != "fedmsg_rabbitmq" {
		t.Fatalf("watched before the first poll: %+v", w)
	}
	for range 3 {
		if got := collect(s); len(got) != 0 {
			t.Errorf("delivered %+v", got)
		}
	}
	w := s.Watched()
	if len(w) != 1 || w[0].Failed != 3 || w[0].LastError != "status 401 Unauthorized" {
		t.Errorf("watched %+v", w)
	}
}

// TestLongReason: a status line of 60 KB is cut in what is kept.
func TestLongReason(t *testing.T) {
	raw := &rawServer{status: "HTTP/1.1 503 " + strings.Repeat("\x1bx", 30000) + "\r\nContent-Length: 0\r\n\r\n"}
	url := raw.start(t)
	s := &Source{URL: url, Interval: time.Second}
	s.init()
	collect(s)
	if e := s.Watched()[0].LastError; len(e) > httppoll.MaxErrorBytes+3 || strings.ContainsRune(e, '\x1b') || !strings.HasPrefix(e, "status 503") {
		t.Errorf("last error of %d bytes: %.100q", len(e), e)
	}
}

// TestVanishedVHost: a vhost absent from forgetAfter answered polls is
// forgotten, its state with it.
func TestVanishedVHost(t *testing.T) {
	b, s := brokerFor(t, queues(1, 1))
	collect(s)
	b.set(200, `[{"name":"fmn","vhost":"/pubsub","messages_ready":1}]`)
	for i := range forgetAfter {
		clock = clock.Add(staleAfter)
		collect(s)
		_, kept := s.last["/"]
		if want := i < forgetAfter-1; kept != want {
			t.Errorf("after %d polls without it: vhost / kept %v", i+1, kept)
		}
	}
	for _, w := range s.Watched() {
		if w.Endpoint.Service == "fedmsg_rabbitmq-default" {
			t.Errorf("still watched: %+v", w)
		}
	}
	if len(s.prev) != 1 || len(s.vhosts) != 1 || len(s.order) != 1 {
		t.Errorf("state left: prev %d, vhosts %d, order %d", len(s.prev), len(s.vhosts), len(s.order))
	}
}

// TestStagedRefresh: polled every second, a broker whose figures change
// in stages within its refresh gives one snapshot per refresh, not one per
// stage.
func TestStagedRefresh(t *testing.T) {
	b, s := brokerFor(t, queues(0, 0))
	at := clock
	var periods []time.Duration
	for i := range 16 {
		// Each 5 s, the counts refresh at 0.3 s, the publish counter at
		// 2.1 s and the deliver counter at 4.0 s.
		cycle, phase := i/5, i%5
		pub, del := float64(10*cycle), float64(10*cycle)
		if phase >= 3 {
			pub += 10
		}
		if phase >= 4 {
			del += 10
		}
		b.set(200, queues(pub, del))
		a, _, _, err := s.reader.fetch(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range s.snapshots(a, at) {
			if m.Endpoint.Service == "fedmsg_rabbitmq-pubsub" && i > 0 {
				periods = append(periods, m.Period)
			}
			// The first snapshot's period is no shorter than the
			// others will be: a source polled every second is not
			// taken for lost before its second snapshot.
			if i == 0 && m.Period < MinSpacing {
				t.Errorf("the first snapshot's period %v, under %v", m.Period, MinSpacing)
			}
		}
		at = at.Add(time.Second)
	}
	if fmt.Sprint(periods) != "[5s 5s 5s]" {
		t.Errorf("periods between snapshots %v, want [5s 5s 5s]", periods)
	}
}

// rawServer answers every connection with status, as written.
type rawServer struct{ status string }

func (r *rawServer) start(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				c.Read(buf)
				io.WriteString(c, r.status)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}
