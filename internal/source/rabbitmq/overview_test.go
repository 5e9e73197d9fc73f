package rabbitmq

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// overviewOf is an /api/overview answer with these totals.
func overviewOf(publish, ready float64) string {
	return fmt.Sprintf(`{"management_version":"3.10.8","message_stats":{"publish":%v,"deliver_get":5,"ack":5},
	  "queue_totals":{"messages":%v,"messages_ready":%v,"messages_unacknowledged":2},
	  "object_totals":{"queues":3,"consumers":4,"channels":2}}`, publish, ready+2, ready)
}

// TestOverviewTotals: while the broker's totals are as at the previous
// poll that asked about each queue, a poll asks for nothing else and the
// answer of that poll stands, at the poll's moment; when they move, or
// after maxQuiet, the queues are asked again. A broker without the
// overview (a 404, or totals missing) is asked about each queue at every
// poll, and the overview not again for maxQuiet after an error.
func TestOverviewTotals(t *testing.T) {
	b := &broker{overview: overviewOf(10, 40)}
	s, now := polledSource(t, b)
	b.set(200, queues(10, 5))
	b.live = `[{"name":"fmn","vhost":"/pubsub","messages_ready":41,"messages_unacknowledged":2}]`
	step := func(wantQueues int) model.Message {
		t.Helper()
		m := pollPubsub(t, s, now)
		b.mu.Lock()
		n := len(b.reqs)
		b.mu.Unlock()
		if n != wantQueues {
			t.Fatalf("%d requests about the queues, want %d", n, wantQueues)
		}
		return m
	}
	step(2) // the statistics and the lengths now
	m := step(2)
	if fmn := m.Snapshot.Consumers[0]; fmn.Backlog.V != 41 || !m.Arrival.Equal(*now) || fmn.HeadcountIn.V != 0 {
		t.Errorf("totals as before: %+v at %v, want the answer before (41 ready, none in) at %v", fmn, m.Arrival, *now)
	}
	b.mu.Lock()
	b.overview = overviewOf(16, 46)
	b.mu.Unlock()
	b.set(200, queues(16, 5))
	m = step(4) // moved: both asked again
	if fmn := m.Snapshot.Consumers[0]; fmn.HeadcountIn.V != 6 {
		t.Errorf("after the totals moved: %v in, want 6", fmn.HeadcountIn)
	}
	for range int(maxQuiet/(10*time.Second)) - 1 {
		step(4)
	}
	step(5) // maxQuiet since the queues were asked: the statistics again, unchanged
	// The overview refused: every poll asks for the statistics (the
	// lengths now only if they moved), and the overview is not asked for
	// maxQuiet's worth of polls.
	b.mu.Lock()
	b.overview = ""
	b.mu.Unlock()
	step(6)
	b.mu.Lock()
	b.overview = overviewOf(16, 46)
	b.mu.Unlock()
	step(7)
	if s.reader.(*management).skipOverview != int(maxQuiet/(10*time.Second))-1 {
		t.Errorf("%d polls left without the overview", s.reader.(*management).skipOverview)
	}
	// Totals without queue_totals (statistics withheld): not judged.
	if f, ok, err := s.reader.(*management).askOverview(context.Background()); !ok || err != nil || f[figReady] != 46 || f[figDeliver] != 5 || f[figConsumers] != 4 {
		t.Errorf("a full overview: %v, %v, %v", f, ok, err)
	}
	b.mu.Lock()
	b.overview = strings.Replace(overviewOf(16, 46), `"queue_totals"`, `"queue_totals_not"`, 1)
	b.mu.Unlock()
	if _, ok, err := s.reader.(*management).askOverview(context.Background()); ok || err != nil {
		t.Errorf("an overview without queue totals: judged %v, %v", ok, err)
	}
}
