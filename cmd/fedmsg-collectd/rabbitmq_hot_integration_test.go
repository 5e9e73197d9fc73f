package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// requestCounts counts a management API's requests by kind, as a proxy
// in front of it sees them.
type requestCounts struct {
	sync.Mutex
	lists, pages, lives, overviews int
}

func (c *requestCounts) count(r *http.Request) {
	q := r.URL.Query()
	c.Lock()
	defer c.Unlock()
	switch {
	case strings.HasSuffix(r.URL.Path, "/api/overview"):
		c.overviews++
	case q.Get("disable_stats") == "true":
		c.lives++
	case q.Get("page") != "":
		c.pages++
	default:
		c.lists++
	}
}

// countingProxy serves the management API at addr through a proxy
// until t ends, and returns the proxy's address and its counts.
func countingProxy(t testing.TB, addr string) (string, *requestCounts) {
	target, _ := url.Parse("http://" + addr)
	counts := &requestCounts{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		counts.count(r)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), counts
}

func (c *requestCounts) get() (lists, pages int) {
	c.Lock()
	defer c.Unlock()
	return c.lists, c.pages
}

// TestRabbitMQHotQueuesIntegration: a broker of 200 idle queues with a
// message each and two busy ones. Between lists of every queue, the
// management source asks by name about the queues that moved, and the
// messages counted in those queues are every message published; a
// message into an idle queue is seen within two polls of the broker's
// statistics showing it. The vhost is given, as Fedora's brokers are
// polled (the page is then asked of that vhost's path). The broker's
// own, behind a proxy that counts its
// requests (the overview is the whole broker's: another test's queues
// would make the source list every queue).
func TestRabbitMQHotQueuesIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	br, err := launchRabbitMQWith(t.TempDir(), rabbitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(br.stop)
	conn, _ := dialRabbitMQ(t, br)
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		q := fmt.Sprintf("idle.%03d", i)
		if _, err := ch.QueueDeclare(q, false, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
		ch.Publish("", q, false, false, amqp.Publishing{Body: []byte("x")})
	}
	busy := []string{"busy.0", "busy.1"}
	for _, q := range append(busy, "cold") {
		if _, err := ch.QueueDeclare(q, false, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	// The idle queue has had a message through: its counters exist, the
	// base the next messages add to.
	ch.Publish("", "cold", false, false, amqp.Publishing{Body: []byte("c")})
	eventually(t, 10*time.Second, "a message through the idle queue", func() (bool, string) {
		_, ok, err := ch.Get("cold", true)
		return ok, fmt.Sprint(err)
	})
	for _, q := range busy {
		msgs, err := ch.Consume(q, "", true, false, false, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for range msgs {
			}
		}()
	}
	proxy, counts := countingProxy(t, br.mgmt)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errs testhub.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--socket-dir=", "--rabbitmq", "http://guest:guest@" + proxy,
			"--rabbitmq-vhost", "/", "--rabbitmq-interval", "5s", "--interval", "1s", "--hostname", "h"}, &out, &errs)
	}()
	id := func(q, figure string) string { return "h/fedmsg_rabbitmq-default/" + figure + "-" + q }
	// The busy queues' counts begin at the plugin's first counts of them.
	eventually(t, 40*time.Second, "the plugin's first counts of the busy queues", func() (bool, string) {
		for _, q := range busy {
			if at, _ := putvals(out.String(), id(q, "operations_per_second")+"_arrival_rate"); len(at) == 0 {
				return false, errs.String()
			}
		}
		return true, ""
	})
	pub, _ := conn.Channel()
	published := 0
	tick := time.NewTicker(100 * time.Millisecond) // 10 a second
	defer tick.Stop()
	lists0, pages0 := counts.get()
	start := time.Now()
	var coldAt time.Time // 3 messages into an idle queue
	for time.Since(start) < 45*time.Second {
		<-tick.C
		if err := pub.Publish("", busy[published%2], false, false, amqp.Publishing{Body: []byte("m")}); err != nil {
			t.Fatal(err)
		}
		published++
		if coldAt.IsZero() && time.Since(start) > 20*time.Second {
			for range 3 {
				pub.Publish("", "cold", false, false, amqp.Publishing{Body: []byte("c")})
			}
			coldAt = time.Now()
		}
	}
	lists, pages := counts.get()
	lists, pages = lists-lists0, pages-pages0
	// 45 s of polls every 5 s: a list when the idle queue moved (two if a
	// statistics refresh fell between the overview and the page), the
	// rest pages.
	if pages < 5 || lists > 3 {
		t.Errorf("with traffic in two queues of 203: %d lists of every queue and %d pages of the busy ones, want at most 3 and at least 5", lists, pages)
	}
	t.Logf("45 s of traffic: %d lists, %d pages", lists, pages)
	// The broker's statistics count the idle queue's messages within 5 s,
	// a poll 5 s after: 15 s is two polls' slack. (Its backlog is seen at
	// the next poll anyway: the lengths now are every queue's.)
	at, vs := putvals(out.String(), id("cold", "gauge")+"_in")
	seen, in := -1.0, 0.0
	for i, v := range vs {
		if in += v; v > 0 && seen < 0 {
			seen = at[i] - float64(coldAt.UnixNano())/1e9
		}
	}
	if seen < 0 || seen > 15 || in != 3 {
		t.Errorf("3 messages into an idle queue: %v counted in (%v), the first %.1f s after, want 3 within 15 s", in, vs, seen)
	}
	eventually(t, 20*time.Second, "every message published counted in", func() (bool, string) {
		var in float64
		for _, q := range busy {
			_, vs := putvals(out.String(), id(q, "gauge")+"_in")
			for _, v := range vs {
				in += v
			}
		}
		return in == float64(published), fmt.Sprintf("%v counted, %d published", in, published)
	})
	cancel()
	<-done
}
