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
// gives it.
func TestStatisticsWithheld(t *testing.T) {
	b := &broker{live: readFile(t, "testdata/queues-nostats-live-3.10.json")}
	b.set(http.StatusOK, readFile(t, "testdata/queues-nostats-3.10.json"))
	srv := httptest.NewServer(b)
	defer srv.Close()
	var log strings.Builder
	s := &Source{URL: srv.URL, Interval: time.Second, Now: func() time.Time { return clock }, Logger: slogTo(&log)}
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
	s.pollOnce(t.Context(), func(m model.Message) {})
	s.pollOnce(t.Context(), func(m model.Message) {})
	if n := strings.Count(log.String(), "withholds its statistics"); n != 1 || !strings.Contains(log.String(), "--rabbitmq-prometheus") {
		t.Errorf("logged %d times: %q", n, log.String())
	}
}
