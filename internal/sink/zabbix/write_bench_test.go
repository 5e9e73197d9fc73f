package zabbix

import (
	"fmt"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// BenchmarkWrite: the sink taking a snapshot of a hub of 50 consumers,
// every pushed kind of each with a value that changes.
func BenchmarkWrite(b *testing.B) {
	var kinds []report.Kind
	for _, k := range report.Kinds() {
		if k.Scope() == report.Entry && pushed(k) {
			kinds = append(kinds, k)
		}
	}
	batch := report.Batch{Service: "fedmsg-hub", Consumers: 50}
	for i := range 50 {
		batch.Subjects = append(batch.Subjects, fmt.Sprintf("Consumer%02d", i))
		for _, k := range kinds {
			batch.Values = append(batch.Values, report.Value{Kind: k, Subject: i})
		}
	}
	s := NewSink("h", 1000, Cadence{Heartbeat: time.Minute})
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		batch.Time = t0.Add(time.Duration(n) * 5 * time.Second)
		for i := range batch.Values {
			batch.Values[i].V = float64(n + i)
		}
		s.Write(report.Update{Snapshots: []report.Batch{batch}})
	}
	b.ReportMetric(float64(len(batch.Values)), "values/op")
}
