package zabbix

import (
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// TestAlerted: the figures the template's triggers read are the ones
// pushed at every snapshot.
func TestAlerted(t *testing.T) {
	for _, k := range []report.Kind{report.Backlog, report.ExpectedWait, report.GrowthRate, report.OldestAge, report.Stalled, report.Workers} {
		if !traits[k].alerted {
			t.Errorf("%v: a trigger reads it, but it is not pushed at every snapshot", k)
		}
	}
	for _, k := range []report.Kind{report.ArrivalRate, report.ServiceRate, report.HeadcountIn, report.Wait, report.DrainTime} {
		if traits[k].alerted {
			t.Errorf("%v: no trigger reads it, but it is pushed at every snapshot", k)
		}
	}
}

// TestDetail: with snapshots every 5 s, the figures a trigger reads go
// every 10 s (the interval); the others at most once a minute,
// the latest of a gauge, the sum of a Delta kind's counts since the
// value pushed last (none lost).
func TestDetail(t *testing.T) {
	s := NewSink("h", 0, Cadence{Alerted: 10 * time.Second, Detail: time.Minute, Heartbeat: time.Minute})
	pushed := map[report.Kind][]value{}
	counted := 0.0
	for i := range 30 {
		at := t0.Add(time.Duration(i) * 5 * time.Second)
		n := s.queue.len()
		in := float64(i % 4) // some snapshots count nothing
		counted += in
		s.Write(report.Update{Snapshots: []report.Batch{{Service: "svc", Time: at, Subjects: []string{"C"}, Consumers: 1,
			Values: []report.Value{{Kind: report.Backlog, V: float64(i)}, {Kind: report.ArrivalRate, V: float64(100 + i)},
				{Kind: report.HeadcountIn, V: in}}}}})
		for _, v := range s.queue.oldest(s.queue.len())[n:] {
			for _, k := range []report.Kind{report.Backlog, report.ArrivalRate, report.HeadcountIn} {
				if v.Key == key(k, "svc", "C") {
					pushed[k] = append(pushed[k], v)
				}
			}
		}
	}
	if b := pushed[report.Backlog]; len(b) != 15 || b[1].Num != 2 || b[1].Clock != t0.Add(10*time.Second).Unix() {
		t.Errorf("backlog, read by triggers: %d values of 30 snapshots, want 15 (the second 2 at +10 s): %v", len(b), b)
	}
	rate := pushed[report.ArrivalRate]
	if len(rate) != 3 {
		t.Fatalf("arrival rate: %d values in 145 s, want 3 (at 0, 60 and 120 s): %v", len(rate), rate)
	}
	for i, v := range rate {
		if want := t0.Add(time.Duration(i) * time.Minute).Unix(); v.Clock != want || v.Num != float64(100+12*i) {
			t.Errorf("arrival rate value %d: %v at %d, want %v at %d (the latest, at its time)", i, v.Num, v.Clock, 100+12*i, want)
		}
	}
	sum := 0.0
	for _, v := range pushed[report.HeadcountIn] {
		sum += v.Num
	}
	// Held still: the counts of the snapshots after the last push (125-145 s).
	held := s.last[[2]string{"svc", "C"}].v[traits[report.HeadcountIn].slot].held
	if len(pushed[report.HeadcountIn]) != 3 || sum+held != counted {
		t.Errorf("messages in: %d values summing %v with %v held, of %v counted", len(pushed[report.HeadcountIn]), sum, held, counted)
	}
}

// TestDeltaRepeated: a count equal to the one pushed before is pushed
// too (an unchanged gauge waits for the heartbeat, a count would be
// lost); nothing counted twice running goes once.
func TestDeltaRepeated(t *testing.T) {
	s := NewSink("h", 0, Cadence{Heartbeat: time.Minute})
	for i, in := range []float64{3, 3, 0, 0, 3} {
		n := s.queue.len()
		s.Write(report.Update{Snapshots: []report.Batch{{Service: "svc", Time: t0.Add(time.Duration(i) * 5 * time.Second), Subjects: []string{"C"},
			Consumers: 1, Values: []report.Value{{Kind: report.HeadcountIn, V: in}}}}})
		got := 0
		for _, v := range s.queue.oldest(s.queue.len())[n:] {
			if v.Key == key(report.HeadcountIn, "svc", "C") {
				got++
			}
		}
		if want := map[bool]int{true: 0, false: 1}[i == 3]; got != want {
			t.Errorf("snapshot %d counting %v: pushed %d times, want %d", i, in, got, want)
		}
	}
}

// TestDue: a value goes once its cadence has passed since the one pushed
// last, or up to a second earlier (snapshots come a few milliseconds either
// side of their period); a value older than the last goes.
func TestDue(t *testing.T) {
	s := int64(time.Second)
	for _, c := range []struct {
		ns, last int64
		every    time.Duration
		want     bool
	}{
		{10 * s, 0, 10 * time.Second, true},
		{10*s - 20e6, 0, 10 * time.Second, true}, // 20 ms early
		{5 * s, 0, 10 * time.Second, false},
		{8 * s, 0, 10 * time.Second, false},
		{55 * s, 0, time.Minute, false},
		{60 * s, 0, time.Minute, true},
		{1 * s, 0, 2 * time.Second, false}, // a quarter early at most
		{2 * s, 0, 2 * time.Second, true},
		{1, 0, 0, true},
		{0, 5 * s, 10 * time.Second, true}, // older: a clock set back
	} {
		if got := due(c.ns, c.last, c.every); got != c.want {
			t.Errorf("at %v, last %v, every %v: due %v, want %v", time.Duration(c.ns), time.Duration(c.last), c.every, got, c.want)
		}
	}
}
