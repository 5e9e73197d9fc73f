package pipeline

import (
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/analytics"
	"github.com/fedora-infra/fedmsg-collectd/internal/derive"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/report"
	"github.com/fedora-infra/fedmsg-collectd/internal/sim"
	"github.com/fedora-infra/fedmsg-collectd/internal/sink/putval"
)

// benchSizes are the snapshots the performance figures are about: the
// largest hubs (200 consumers with full 1024-entry times lists) and small
// ones (4 consumers, about 4 KB).
var benchSizes = []struct {
	name             string
	consumers, times int
}{
	{"large", 200, 1024},
	{"small", 4, 40},
}

// stdlibSnapshot is the message decoded by encoding/json into structs: the
// baseline.
type stdlibSnapshot struct {
	Consumers []struct {
		Name         string          `json:"name"`
		Module       string          `json:"module"`
		Topic        json.RawMessage `json:"topic"`
		Initialized  bool            `json:"initialized"`
		Exceptions   *float64        `json:"exceptions"`
		Backlog      *float64        `json:"backlog"`
		HeadcountIn  *float64        `json:"headcount_in"`
		HeadcountOut *float64        `json:"headcount_out"`
		Times        []float64       `json:"times"`
	} `json:"consumers"`
	Producers []struct {
		Name       string   `json:"name"`
		Exceptions *float64 `json:"exceptions"`
		LastRan    *float64 `json:"last_ran"`
	} `json:"producers"`
}

func BenchmarkStdlibDecode(b *testing.B) {
	for _, sz := range benchSizes {
		data := sim.Synthetic(sz.consumers, sz.times, 1)
		b.Run(sz.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				var s stdlibSnapshot
				if err := json.Unmarshal(data, &s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, sz := range benchSizes {
		data := sim.Synthetic(sz.consumers, sz.times, 1)
		b.Run(sz.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := model.Decode(data, time.Unix(1795516100, 0)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDerive is the second stage alone: the compatibility set and the
// analytics of a decoded snapshot. MB/s are of the message it came from,
// comparable with the other stages.
func BenchmarkDerive(b *testing.B) {
	for _, sz := range benchSizes {
		data := sim.Synthetic(sz.consumers, sz.times, 1)
		s, err := model.Decode(data, time.Unix(1795516100, 0))
		if err != nil {
			b.Fatal(err)
		}
		s.Period, s.Session = 5*time.Second, 1
		b.Run(sz.name, func(b *testing.B) {
			h := derive.NewHub(analytics.NewHub(time.Minute))
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				s.Arrival = s.Arrival.Add(5 * time.Second)
				h.Values(s)
			}
		})
	}
}

// BenchmarkWrite is the last stage alone: formatting a snapshot's values
// as PUTVAL lines and writing them.
func BenchmarkWrite(b *testing.B) {
	for _, sz := range benchSizes {
		data := sim.Synthetic(sz.consumers, sz.times, 1)
		h := NewHubs(time.Minute, nil)
		var batch report.Batch
		for i := range 2 { // the second snapshot has the analytics too
			var err error
			batch, err = h.Add(message(data, time.Unix(1795516100+5*int64(i), 0)))
			if err != nil {
				b.Fatal(err)
			}
		}
		b.Run(sz.name, func(b *testing.B) {
			w := putval.NewSink(io.Discard, "host")
			u := report.Update{Snapshots: []report.Batch{batch}}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				// A second later each time: the sink writes one a second.
				u.Snapshots[0].Time = u.Snapshots[0].Time.Add(time.Second)
				if err := w.Write(u); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(batch.Values)), "lines")
		})
	}
}

// message is data as it arrives from a hub publishing every 5 s.
func message(data []byte, at time.Time) model.Message {
	return model.Message{Endpoint: model.Endpoint{Service: "fedmsg-hub"}, Raw: data, Arrival: at, Period: 5 * time.Second, Session: 1}
}

// write runs one message through h into w, as the live pipeline does.
func write(b *testing.B, h *Hubs, w Sink, m model.Message) {
	batch, err := h.Add(m)
	if err != nil {
		b.Fatal(err)
	}
	if err := w.Write(report.Update{Snapshots: []report.Batch{batch}}); err != nil {
		b.Fatal(err)
	}
	h.Release()
}

// BenchmarkPipeline is the whole path a snapshot takes: decode, derive
// (compatibility set and analytics), write the PUTVAL lines.
func BenchmarkPipeline(b *testing.B) {
	for _, sz := range benchSizes {
		data := sim.Synthetic(sz.consumers, sz.times, 1)
		b.Run(sz.name, func(b *testing.B) {
			h := NewHubs(time.Minute, nil)
			w := putval.NewSink(io.Discard, "host")
			at := time.Unix(1795516100, 0)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				at = at.Add(5 * time.Second)
				write(b, h, w, message(data, at))
			}
		})
	}
}

// BenchmarkPipelineSim50 runs the path on what a simulated hub of 50
// consumers publishes, message after message: the latency figure's case.
func BenchmarkPipelineSim50(b *testing.B) {
	ps, _ := sim.Lookup("all")
	hub := sim.NewHub([]sim.Profile{sim.Scale(ps, 50)}, 1, sim.WallEpoch(time.Unix(1795516100, 0), 1))
	var msgs [][]byte
	for i := range 50 {
		msgs = append(msgs, hub.Publish(float64(5*(i+1))))
	}
	h := NewHubs(time.Minute, nil)
	w := putval.NewSink(io.Discard, "host")
	at := time.Unix(1795516100, 0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		at = at.Add(5 * time.Second)
		write(b, h, w, message(msgs[i%len(msgs)], at))
		i++
	}
}
