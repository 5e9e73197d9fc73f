package putval

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"collectd.org/api"
	"collectd.org/format"
)

// referenceFormat is the formatting of collectd.org's format.Putval, which
// Format must reproduce byte for byte.
func referenceFormat(buf *bytes.Buffer, b Batch) {
	plugin, inst, _ := strings.Cut(b.Service, "-")
	vl := api.ValueList{
		Identifier: api.Identifier{Host: b.Host, Plugin: plugin, PluginInstance: inst},
		Time:       b.Time, Interval: max(b.Interval, MinInterval), Values: make([]api.Value, 1),
	}
	p := format.NewPutval(buf)
	for _, v := range b.Values {
		if math.IsNaN(v.Value) || math.IsInf(v.Value, 0) {
			continue
		}
		vl.Type, vl.TypeInstance = v.Type, v.Instance()
		vl.Values[0] = api.Gauge(v.Value)
		p.Write(context.Background(), &vl)
	}
}

// TestFormatMatchesCollectdOrg compares Format with format.Putval on
// random batches with sanitized names and values of every magnitude.
func TestFormatMatchesCollectdOrg(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	names := []string{"FMNConsumer", `Spaced "Quoted" Consumer`, `back\slash`, "café-ü", "a_b-c.d:e", strings.Repeat("x", 120)}
	for i := range 2000 {
		b := Batch{
			Host:     Host([]string{"myhost", "my host", "h/x"}[i%3]),
			Service:  []string{"fedmsg-hub", "relay", "fedmsg-hub-3"}[i%3],
			Time:     time.Unix(1795516100+int64(rng.IntN(1e6)), int64(rng.IntN(1e9))),
			Interval: time.Duration(rng.IntN(20e9)),
		}
		if i%7 == 0 {
			b.Time = time.Time{}
		}
		for j := range 20 {
			v := math.Exp(rng.NormFloat64()*10) * float64(1-2*rng.IntN(2))
			switch j {
			case 0:
				v = float64(rng.IntN(100000))
			case 1:
				v = 0
			case 2:
				v = math.NaN()
			case 3:
				v = math.Copysign(0, -1)
			case 4:
				v = float64(rng.Int64N(4e15) - 2e15)
			}
			n := Names([]string{names[rng.IntN(len(names))]})[0]
			if j%2 == 0 {
				b.Values = append(b.Values, Value{Type: "gauge", TypeInstance: n + "_backlog", Value: v})
			} else {
				b.Values = append(b.Values, Value{Type: "gauge", TypeInstance: n, Suffix: "_backlog", Value: v})
			}
		}
		b.Values = append(b.Values, Value{Type: "count", Value: 3})
		var got, want bytes.Buffer
		if err := Format(&got, b); err != nil {
			t.Fatal(err)
		}
		referenceFormat(&want, b)
		if got.String() != want.String() {
			t.Fatalf("batch %d:\ngot  %s\nwant %s", i, got.String(), want.String())
		}
	}
}

func BenchmarkFormat(b *testing.B) {
	batch := Batch{Host: "myhost", Service: "fedmsg-hub", Time: time.Unix(1795516100, 0), Interval: 5 * time.Second}
	for i := range 100 {
		batch.Values = append(batch.Values, Value{Type: "response_time", TypeInstance: "FMNConsumer_p95", Value: 50.14438629150 + float64(i)})
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		Format(&buf, batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch.Values)), "ns/line")
}
