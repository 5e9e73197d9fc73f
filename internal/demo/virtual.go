package demo

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/analytics"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/pipeline"
	"github.com/fedora-infra/fedmsg-collectd/internal/sim"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/counters"
)

// Virtual runs what Live runs for span of the simulation's time, without
// the wall clock: the simulation is stepped in its own time from epoch,
// and every snapshot, as the program's source reads it (a hub's message,
// or a poll of the counters every publish period, answered in process),
// is replayed into sink as the pipeline writes it. The same publisher and
// epoch give the same output, byte for byte.
func Virtual(sc sim.Publisher, stages bool, epoch time.Time, span time.Duration, sink pipeline.Sink) error {
	hubs := pipeline.NewHubs(analytics.DefaultSmoothing, nil)
	next := hubMessages(sc, epoch, span)
	if stages {
		next = stageMessages(sc, epoch, span)
	}
	_, err := pipeline.Replay(next, hubs, sink, func(error) {})
	return err
}

// hubMessages are a simulated hub's monitoring messages, one every period.
func hubMessages(sc sim.Publisher, epoch time.Time, span time.Duration) func() (model.Message, error) {
	start := float64(epoch.UnixNano()) / 1e9
	hub := sim.NewHub(sc.Profiles, sc.Seed, func(s float64) float64 { return start + s })
	ep := model.Endpoint{Service: "fedmsg-hub", Addr: "ipc:///demo/monitoring-fedmsg-hub.socket"}
	at := time.Duration(0)
	return func() (model.Message, error) {
		// Like moksha, the first message comes one period after the start.
		if at += sc.Period; at > span {
			return model.Message{}, io.EOF
		}
		m := model.Message{Endpoint: ep, Raw: hub.Publish(at.Seconds()), Arrival: epoch.Add(at), Session: 1}
		if at > sc.Period {
			m.Period = sc.Period
		}
		return m, nil
	}
}

// stageMessages are the counters source's snapshots of the demo's
// simulated stages, polled every period of their time.
func stageMessages(sc sim.Publisher, epoch time.Time, span time.Duration) func() (model.Message, error) {
	st := sim.DemoStages(1, sc.Seed)
	at := time.Duration(0)
	src := &counters.Source{Service: "pipeline", URL: "http://demo.invalid/counters", Interval: sc.Period,
		Client: &http.Client{Transport: inProcess{st}}, Now: func() time.Time { return epoch.Add(at) }}
	const step = 100 * time.Millisecond
	return func() (model.Message, error) {
		for range sc.Period / step {
			if at += step; at > span {
				return model.Message{}, io.EOF
			}
			st.Step(step.Seconds())
		}
		return src.Poll(context.Background())
	}
}

// inProcess answers a request with its handler, in process.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, r)
	return w.Result(), nil
}
