package rabbitmq

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// hotBroker is a management API over a table of queues, all of vhost
// /pubsub: the list of their statistics, one page of it filtered by a
// name pattern (regardless of case, as RabbitMQ does), their lengths now,
// and an overview whose totals are the table's sums.
type hotBroker struct {
	mu                  sync.Mutex
	qs                  []hq
	lists, pages, lives int
	pattern             string // of the latest page asked
	refusePages         bool
	page                string // when set, the answer to a page
}

// hq is a queue of the table.
type hq struct {
	name                                        string
	ready, unacked, consumers, publish, deliver float64
}

func (b *hotBroker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if strings.HasSuffix(r.URL.Path, "/api/overview") {
		var pub, del, ready, unacked, cons float64
		for _, q := range b.qs {
			pub, del, ready, unacked, cons = pub+q.publish, del+q.deliver, ready+q.ready, unacked+q.unacked, cons+q.consumers
		}
		fmt.Fprintf(w, `{"message_stats":{"publish":%v,"deliver_get":%v},"queue_totals":{"messages":%v,"messages_ready":%v,"messages_unacknowledged":%v},"object_totals":{"queues":%d,"consumers":%v}}`,
			pub, del, ready+unacked, ready, unacked, len(b.qs), cons)
		return
	}
	query := r.URL.Query()
	var items []map[string]any
	for _, q := range b.qs {
		e := map[string]any{"name": q.name, "vhost": "/pubsub", "messages_ready": q.ready, "messages_unacknowledged": q.unacked}
		if query.Get("disable_stats") != "true" {
			e["consumers"] = q.consumers
			e["message_stats"] = map[string]float64{"publish": q.publish, "deliver_get": q.deliver}
		}
		items = append(items, e)
	}
	switch {
	case query.Get("disable_stats") == "true":
		b.lives++
	case query.Get("page") != "":
		b.pages++
		b.pattern = query.Get("name")
		re, err := regexp.Compile("(?i)" + b.pattern)
		if b.refusePages || err != nil || query.Get("use_regex") != "true" {
			http.Error(w, "no", http.StatusBadRequest)
			return
		}
		if b.page != "" {
			fmt.Fprint(w, b.page)
			return
		}
		var page []map[string]any
		for _, e := range items {
			if re.MatchString(e["name"].(string)) {
				page = append(page, e)
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"items": page, "page": 1, "page_count": 1, "page_size": 500, "filtered_count": len(page), "total_count": len(items)})
		return
	default:
		b.lists++
	}
	json.NewEncoder(w).Encode(items)
}

// move moves queue i's figures: n published, d delivered, c consumers more.
func (b *hotBroker) move(i int, n, d, c float64) {
	b.mu.Lock()
	q := &b.qs[i]
	q.publish, q.deliver, q.ready, q.consumers = q.publish+n, q.deliver+d, q.ready+n-d, q.consumers+c
	b.mu.Unlock()
}

// TestHotQueues: between lists, a poll asks by name about the queues that
// moved lately, and takes the others from the latest list while the
// overview's totals less the hot queues' are as they were; a message into
// an idle queue, a consumer attached to one, maxCold, a broker that
// refuses pages or traffic in more than maxHot queues make it list every
// queue. Every snapshot of every queue is checked against the table.
func TestHotQueues(t *testing.T) {
	b := &hotBroker{}
	for i := range 150 {
		b.qs = append(b.qs, hq{name: fmt.Sprintf("q%03d", i), ready: float64(i % 7), publish: 100, deliver: 100 - float64(i%7)})
	}
	b.qs[4].name = "Q003" // the broker's pattern matches it with q003
	for i := 100; i < 150; i++ {
		// Names whose pattern, escaped in the URL, is over maxPattern.
		b.qs[i].name = fmt.Sprintf("q%03d%s", i, strings.Repeat(".", 40))
	}
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	now := clock
	s := &Source{URL: srv.URL, Interval: 10 * time.Second, Now: func() time.Time { return now }}
	s.init()
	last := map[string]hq{}
	step := func(what string, lists, pages int) {
		t.Helper()
		now = now.Add(10 * time.Second)
		b.mu.Lock()
		l0, p0 := b.lists, b.pages
		truth := append([]hq(nil), b.qs...)
		b.mu.Unlock()
		var got []model.Message
		s.pollOnce(t.Context(), func(m model.Message) { got = append(got, m) })
		b.mu.Lock()
		dl, dp := b.lists-l0, b.pages-p0
		b.mu.Unlock()
		if dl != lists || dp != pages {
			t.Errorf("%s: %d lists and %d pages asked, want %d and %d", what, dl, dp, lists, pages)
		}
		var snap *model.Snapshot
		for _, m := range got {
			if m.Snapshot != nil && m.Endpoint.Service == "fedmsg_rabbitmq-pubsub" {
				snap = m.Snapshot
			}
		}
		if snap == nil {
			if len(last) > 0 && !same(last, truth) {
				t.Errorf("%s: no snapshot, but the queues moved", what)
			}
			return
		}
		if len(snap.Consumers) != len(truth) {
			t.Fatalf("%s: %d queues, want %d", what, len(snap.Consumers), len(truth))
		}
		for i, c := range snap.Consumers {
			q, was := truth[i], last[truth[i].name]
			in, out := q.publish-was.publish, q.deliver-was.deliver
			bad := c.Name != q.name || c.Backlog.V != q.ready || c.Workers.V != q.consumers
			if len(last) > 0 {
				bad = bad || c.HeadcountIn.V != in || c.HeadcountOut.V != out
			}
			if bad {
				t.Errorf("%s: %s: backlog %v, consumers %v, in %v, out %v; want %v, %v, %v, %v",
					what, c.Name, c.Backlog.V, c.Workers.V, c.HeadcountIn.V, c.HeadcountOut.V, q.ready, q.consumers, in, out)
			}
		}
		for _, q := range truth {
			last[q.name] = q
		}
	}
	step("the first poll", 1, 0)
	traffic := func() { b.move(3, 5, 4, 0); b.move(7, 2, 2, 0) }
	traffic()
	step("traffic: the totals moved, nothing hot yet", 1, 0)
	traffic()
	step("traffic in the same queues", 0, 1)
	if want := `^(?:q003|q007)$`; b.pattern != want {
		t.Errorf("pattern %q, want %q", b.pattern, want)
	}
	traffic()
	b.move(12, 1, 0, 0)
	step("a message into an idle queue", 1, 1)
	traffic()
	b.move(12, 1, 1, 0)
	step("and through it", 0, 1)
	traffic()
	b.move(20, 0, 0, 1)
	step("a consumer attached to an idle queue", 1, 1)
	step("nothing moved: the overview alone", 0, 0)
	for range int(maxCold/s.Interval) - 2 {
		traffic()
		step("traffic in the hot queues", 0, 1)
	}
	traffic()
	step("maxCold since the latest list", 1, 0)
	b.mu.Lock()
	b.refusePages = true
	b.mu.Unlock()
	traffic()
	step("pages refused", 1, 1)
	b.mu.Lock()
	b.refusePages = false
	b.mu.Unlock()
	for range maxQuiet / s.Interval {
		traffic()
		step("pages refused: not asked again for maxQuiet", 1, 0)
	}
	traffic()
	step("pages asked again", 0, 1)
	for i := range maxHot + 1 {
		b.move(i, 1, 1, 0)
	}
	step("traffic in more than maxHot queues", 1, 1)
	h := &s.reader.(*management).hot
	if !h.tooMany {
		t.Errorf("more than maxHot moved, yet not too many")
	}
	traffic()
	step("more than maxHot queues moved at the latest poll", 1, 0)
	for i := range 2 {
		for i := 100; i < 150; i++ {
			b.move(i, 1, 1, 0)
		}
		step("traffic in 50 queues whose names escape to over maxPattern", 1, 1-i)
	}
	if h.tooMany || len(h.moved) != 52 {
		t.Errorf("%d hot (too many: %v), want 52: two busy queues and the 50 whose names are long", len(h.moved), h.tooMany)
	}
}

// same says whether the table is as last seen.
func same(last map[string]hq, qs []hq) bool {
	for _, q := range qs {
		if last[q.name] != q {
			return false
		}
	}
	return true
}

// TestHotPageAnswers: a page that is not one page of queues (a broker
// that ignores pagination and lists every queue, a second page, items
// that are not a list, an entry that is not a queue, garbage) is not
// taken: the poll lists every queue instead, and its snapshot is right.
func TestHotPageAnswers(t *testing.T) {
	for _, page := range []string{
		`[{"name":"q003","vhost":"/pubsub","messages_ready":1e9}]`,
		`{"items":[{"name":"q003","vhost":"/pubsub","messages_ready":1e9,"messages_unacknowledged":0,"consumers":0}],"page_count":2}`,
		`{"items":"q003","page_count":1}`,
		`{"items":[{"name":"q003","vhost":"/pubsub","messages_ready":"many"}],"page_count":1}`,
		`{"items":[{"name":"q003"`,
		"\x00\xff",
	} {
		b := &hotBroker{page: page}
		for i := range 5 {
			b.qs = append(b.qs, hq{name: fmt.Sprintf("q%03d", i), publish: 10, deliver: 10})
		}
		srv := httptest.NewServer(b)
		now := clock
		s := &Source{URL: srv.URL, Interval: 10 * time.Second, Now: func() time.Time { return now }}
		s.init()
		var snap *model.Snapshot
		for i := range 3 {
			b.move(3, 2, 1, 0)
			now = now.Add(10 * time.Second)
			s.pollOnce(t.Context(), func(m model.Message) {
				if m.Snapshot != nil && i == 2 {
					snap = m.Snapshot
				}
			})
		}
		srv.Close()
		if b.lists != 3 || b.pages != 1 {
			t.Errorf("page %.40q: %d lists and %d pages, want 3 and 1", page, b.lists, b.pages)
		}
		if snap == nil || snap.Consumers[3].Backlog.V != 3 || snap.Consumers[3].HeadcountIn.V != 2 {
			t.Errorf("page %.40q: snapshot %+v, want q003 at 3 ready, 2 in", page, snap)
		}
	}
}
