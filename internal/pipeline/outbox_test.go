package pipeline

import (
	"fmt"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// TestOutbox: each endpoint keeps its newest outboxDepth messages in
// order, a heartbeat is replaced without a count, one take gives one
// message an endpoint, and ready stays signalled while any remain.
func TestOutbox(t *testing.T) {
	a, b := model.Endpoint{Service: "a"}, model.Endpoint{Service: "b"}
	at := func(ep model.Endpoint, s int, hb bool) model.Message {
		return model.Message{Endpoint: ep, Arrival: time.Unix(int64(s), 0), Heartbeat: hb}
	}
	o := newOutbox()
	o.put(at(b, 0, true))
	o.put(at(b, 1, true)) // replaces the heartbeat before it
	for s := range 5 {
		o.put(at(a, 10+s, false)) // 10 and 11 pushed out
	}
	if n := o.droppedCount(a); n != 5-outboxDepth {
		t.Errorf("a: %d dropped, want %d", n, 5-outboxDepth)
	}
	if n := o.droppedCount(b); n != 0 {
		t.Errorf("b: %d dropped, want none for heartbeats", n)
	}
	var got [][]int64
	for {
		select {
		case <-o.ready:
		default:
			if len(o.pending) > 0 {
				t.Fatalf("ready not signalled with %d endpoints pending", len(o.pending))
			}
			want := [][]int64{{1, 12}, {13}, {14}} // b came first
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("takes %v, want %v", got, want)
			}
			return
		}
		var take []int64
		for _, m := range o.take() {
			take = append(take, m.Arrival.Unix())
		}
		got = append(got, take)
	}
}
