package rabbitmq

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// keptSource is a Prometheus source of the given node URLs that keeps
// its state, resumed from saved when not nil.
func keptSource(t *testing.T, saved json.RawMessage, urls ...string) *Source {
	t.Helper()
	s := &Source{Name: "mq", Interval: 10 * time.Second, Now: func() time.Time { return clock }, Nodes: urls}
	s.KeepState()
	if saved != nil {
		if err := s.ResumeState(saved); err != nil {
			t.Fatalf("resume: %v", err)
		}
	}
	s.init()
	return s
}

// TestPrometheusStateCarriesOver: a check reading Prometheus listeners
// saves each node's series of the queues it checks, and the next run's
// first poll counts every channel's messages since then: those of a
// channel seen in both runs, of one opened between them whole, of one
// closed not at all. Without the state, or with that of other nodes, the
// first poll has no counts.
func TestPrometheusStateCarriesOver(t *testing.T) {
	b := &broker{status: http.StatusOK, body: expo(5, map[string]float64{"<0.1.0>": 100, "<0.2.0>": 50}, map[string]float64{"<0.3.0>": 70})}
	srv := httptest.NewServer(b)
	defer srv.Close()
	s := keptSource(t, nil, srv.URL)
	poll(t, s)
	b.set(http.StatusOK, expo(5, map[string]float64{"<0.1.0>": 110, "<0.2.0>": 50}, map[string]float64{"<0.3.0>": 80}))
	poll(t, s)
	saved, err := s.SaveState([]string{"q"})
	if err != nil || !strings.Contains(string(saved), `"prometheus"`) || !strings.Contains(string(saved), `0.2.0`) {
		t.Fatalf("saved %s, %v", saved, err)
	}
	if other, _ := s.SaveState([]string{"other"}); strings.Contains(string(other), "0.1.0") {
		t.Errorf("the series of a queue not named were saved: %s", other)
	}
	savedAt := clock

	// A minute later: <0.1.0> published 30 more, <0.2.0> closed, <0.4.0>
	// opened and published 7; the consumer's channel took 25 more.
	clock = clock.Add(55 * time.Second)
	b.set(http.StatusOK, expo(5, map[string]float64{"<0.1.0>": 140, "<0.4.0>": 7}, map[string]float64{"<0.3.0>": 105}))
	next := keptSource(t, saved, srv.URL)
	snaps, err := poll(t, next)
	if err != nil {
		t.Fatal(err)
	}
	c := consumerOf(t, snaps, "mq-default", "q")
	if !c.HeadcountIn.Valid || c.HeadcountIn.V != 37 || c.HeadcountOut.V != 25 {
		t.Errorf("first poll after the state: in %+v out %+v, want 30+7 and 25", c.HeadcountIn, c.HeadcountOut)
	}
	if m := snaps["mq-default"]; m.Period != m.Arrival.Sub(savedAt) {
		t.Errorf("period %v, want the %v since the saved snapshot", m.Period, m.Arrival.Sub(savedAt))
	}

	// The state of another node: not taken up, the first poll uncounted.
	other := httptest.NewServer(b)
	defer other.Close()
	clock = clock.Add(time.Minute)
	elsewhere := keptSource(t, saved, other.URL)
	snaps, _ = poll(t, elsewhere)
	if c := consumerOf(t, snaps, "mq-default", "q"); c.HeadcountIn.Valid {
		t.Errorf("a state of another node was counted from: in %+v", c.HeadcountIn)
	}
	// A management API's source takes no Prometheus state, and the
	// other way round.
	clock = clock.Add(time.Minute)
	mgmt := &Source{URL: srv.URL, Interval: time.Second}
	if err := mgmt.ResumeState(saved); err == nil {
		mgmt.init()
		if mgmt.resume != nil || len(mgmt.prev) > 0 {
			t.Errorf("a management source took up a Prometheus state")
		}
	}

	for _, bad := range []string{
		`{"vhosts":{},"prometheus":{"nodes":[{"url":"x","lines":["a 1\nb 2"]}]}}`,
		`{"vhosts":{},"prometheus":{"nodes":[]}}`,
		`{"vhosts":{},"prometheus":{"nodes":[{"url":"x"}],"queues":[{"name":"q","totals":[-1,0,0]}]}}`,
	} {
		if err := (&Source{Nodes: []string{srv.URL}}).ResumeState(json.RawMessage(bad)); err == nil {
			t.Errorf("%s taken up", bad)
		}
	}
}

// TestPrometheusStateBounded: a state of more series than it holds is
// not saved, rather than saved in part (a series left out would be
// counted whole by the next run).
func TestPrometheusStateBounded(t *testing.T) {
	in := map[string]float64{}
	for i := range maxStateSeries + 1 {
		in["<0."+strings.Repeat("1", i%7+1)+"."+string(rune('a'+i%26))+strings.Repeat("x", i/26)+">"] = 1
	}
	b := &broker{status: http.StatusOK, body: expo(5, in, nil)}
	srv := httptest.NewServer(b)
	defer srv.Close()
	s := keptSource(t, nil, srv.URL)
	poll(t, s)
	b.set(http.StatusOK, expo(6, in, nil))
	snaps, err := poll(t, s)
	if err != nil {
		t.Fatal(err)
	}
	consumerOf(t, snaps, "mq-default", "q")
	if saved, err := s.SaveState([]string{"q"}); saved != nil || err != nil {
		t.Errorf("%d bytes saved (%v), want none", len(saved), err)
	}
}
