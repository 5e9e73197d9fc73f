package rabbitmq

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// TestStatisticsWithheld: a 3.10 broker with
// management_agent.disable_metrics_collector = true (its answers
// recorded) lists its queues' names only, and their lengths now on the
// request of lengths. The lengths are reported, without consumers or
// counts in and out (not zeros); the stream, of which the broker tells
// no length, is left out; the log says once what is withheld and what
// gives it, once the answers have lacked statistics for 15 s.
func TestStatisticsWithheld(t *testing.T) {
	b := &broker{live: readFile(t, "testdata/queues-nostats-live-3.10.json")}
	b.set(http.StatusOK, readFile(t, "testdata/queues-nostats-3.10.json"))
	srv := httptest.NewServer(b)
	defer srv.Close()
	var log strings.Builder
	tick := clock
	s := &Source{URL: srv.URL, Interval: time.Second, Logger: slogTo(&log), Now: func() time.Time {
		tick = tick.Add(2500 * time.Millisecond) // a poll reads it twice: 5 s a poll
		return tick
	}}
	s.init()
	for range 3 {
		snaps, err := poll(t, s)
		if err != nil {
			t.Fatal(err)
		}
		m, ok := snaps["fedmsg_rabbitmq-default"]
		if !ok {
			continue // the lengths did not change: no snapshot
		}
		cs := m.Snapshot.Consumers
		if len(cs) != 2 || cs[0].Name != "classic" || cs[1].Name != "quorum" {
			t.Fatalf("queues %+v: want classic and quorum", cs)
		}
		if cs[0].Backlog.V != 13 || cs[0].InService.V != 1 || cs[1].Backlog.V != 8 {
			t.Errorf("lengths %+v", cs)
		}
		for _, c := range cs {
			if c.Workers.Valid || c.HeadcountIn.Valid || c.HeadcountOut.Valid {
				t.Errorf("%s: consumers or counts told where the broker withholds them: %+v", c.Name, c)
			}
		}
	}
	// Queues just made have no statistics for up to 5 s: said only once
	// the answers had none for 15 s, then never again.
	for i := range 6 {
		s.pollOnce(t.Context(), func(m model.Message) {})
		n := strings.Count(log.String(), "withholds its statistics")
		if want := min(1, max(0, i-2)); n != want {
			t.Errorf("after %d polls 5 s apart logged %d times, want %d: %q", i+1, n, want, log.String())
		}
	}
	if !strings.Contains(log.String(), "--rabbitmq-prometheus") {
		t.Errorf("logged %q", log.String())
	}
}
