package rabbitmq

import (
	"math"
	"testing"
	"time"
)

// TestReadyNow: the ready messages of a queue brought to the poll's
// moment with its counters, its anchor V learned from its reports.
func TestReadyNow(t *testing.T) {
	t0 := time.Unix(1796216400, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	var a anchor
	// No report placed yet: as reported.
	if got := readyNow(&a, 7, false, time.Time{}, at(0), totals{}, totals{publish: 10}); got != 7 || a.known {
		t.Fatalf("before any report: %v, %+v", got, a)
	}
	// A report in a window through which no message passed: V exact.
	quiet := totals{publish: 10, deliver: 3}
	if got := readyNow(&a, 7, true, at(0), at(10), quiet, quiet); got != 7 || !a.known || a.v != 0 {
		t.Fatalf("a quiet report: %v, anchor %+v; want 7 and V = 7 - (10 - 3) = 0", got, a)
	}
	// 100 in, 25 out of which 5 redelivered, no report since: 80 more.
	busy := totals{publish: 110, deliver: 28, redeliver: 5}
	if got := readyNow(&a, 7, false, at(10), at(20), quiet, busy); got != 87 {
		t.Errorf("messages passed, no report: %v, want 87", got)
	}
	// A report of 70 during the flow, which allows V = 0 (N went from 7
	// to 87 over the window): it weighs little against the quiet one.
	if got := readyNow(&a, 70, true, at(10), at(20), quiet, busy); math.Abs(got-87) > 1 {
		t.Errorf("a report during the flow: %v, V %v; want within 1 of 87", got, a.v)
	}
	// 50 purged, then a quiet report of 37: V moves to -50.
	if got := readyNow(&a, 37, true, at(20), at(30), busy, busy); got != 37 || a.v != -50 {
		t.Errorf("after a purge: %v, V %v; want 37, -50", got, a.v)
	}
}

// TestBurstThenQuiet: 300 in at once, 200 out, a report during the burst
// and one after it, then nothing: the queue's ready messages are the
// true 100 from the report after the burst on.
func TestBurstThenQuiet(t *testing.T) {
	t0 := time.Unix(1796216400, 0)
	var a anchor
	empty := totals{}
	readyNow(&a, 0, true, t0, t0.Add(10*time.Second), empty, empty) // V = 0
	burst := totals{publish: 300, deliver: 200}
	got := readyNow(&a, 250, true, t0.Add(10*time.Second), t0.Add(20*time.Second), empty, burst)
	if math.Abs(got-100) > 2 {
		t.Errorf("during the burst: %v, want within 2 of 100", got)
	}
	if got := readyNow(&a, 100, true, t0.Add(20*time.Second), t0.Add(30*time.Second), burst, burst); got != 100 {
		t.Errorf("after it: %v, want 100", got)
	}
}
