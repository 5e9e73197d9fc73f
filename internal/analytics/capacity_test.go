package analytics

import "testing"

// TestCapacityNeverSeen: without processing times, a queue whose
// consumers were never seen saturated has no expected wait, however fast
// messages pass: what they serve is the load, not what they could.
func TestCapacityNeverSeen(t *testing.T) {
	// 10 a second in and out, 20 waiting: each window serves 50, more
	// than were waiting at its start.
	for i, m := range run(steady(20, 5, 10, 10, 20)) {
		if w, ok := m["C_expected_wait"]; ok {
			t.Fatalf("update %d: expected wait %v from throughput", i, w)
		}
		if i > 0 && m["C_service_rate"] != 10 {
			t.Fatalf("update %d: service rate %v", i, m["C_service_rate"])
		}
	}
}

// TestCapacityLearned: a window that serves fewer messages than waited at
// its start shows the capacity; it stays through a quiet hour, rescaled to
// the consumers attached, and none attached gives no expected wait.
func TestCapacityLearned(t *testing.T) {
	three, six, none := 3.0, 6.0, 0.0
	ss := []sample{
		{at: 0, backlog: 500, workers: &three},
		{at: 5, backlog: 450, in: 100, out: 150, workers: &three}, // 30 a second
		{at: 10, backlog: 300, in: 0, out: 150, workers: &three},
	}
	// Quiet: empty, a message now and then.
	for at := 15.0; at <= 3600; at += 5 {
		ss = append(ss, sample{at: at, in: 1, out: 1, workers: &three})
	}
	ss = append(ss,
		sample{at: 3605, backlog: 300, in: 300, workers: &three},
		sample{at: 3610, backlog: 300, in: 300, out: 300, workers: &six}, // none taken would be a stall
		sample{at: 3615, backlog: 300, in: 0, workers: &none})
	res := run(ss)
	within(t, "expected wait while saturated", res[2]["C_expected_wait"], 300.0/30, 0.01)
	if w := res[len(ss)-4]["C_expected_wait"]; w != 0 {
		t.Errorf("empty queue: expected wait %v", w)
	}
	within(t, "expected wait after an hour of quiet", res[len(ss)-3]["C_expected_wait"], 300.0/30, 0.01)
	within(t, "expected wait with twice the consumers", res[len(ss)-2]["C_expected_wait"], 300.0/60, 0.01)
	if w, ok := res[len(ss)-1]["C_expected_wait"]; ok {
		t.Errorf("no consumer attached: expected wait %v", w)
	}
	if _, ok := res[2]["C_drain_time"]; !ok {
		t.Errorf("no drain time while draining: %v", res[2])
	}
}

// TestCapacityRecounted: two consumers of four come back while the
// broker still counts two; a window served by four, counted as two,
// teaches nothing once four are counted, while a true speed-up, the
// count unchanged, is kept (as a real broker's return went wrong:
// TestRabbitMQIncidentIntegration).
func TestCapacityRecounted(t *testing.T) {
	two, four := 2.0, 4.0
	saturated := func(workers *float64) []sample {
		// 10 a second each, 400 waiting throughout: far from empty.
		ss := []sample{{at: 0, backlog: 400, workers: workers}}
		for at := 5.0; at <= 60; at += 5 {
			ss = append(ss, sample{at: at, backlog: 400, in: 50 * *workers, out: 50 * *workers, workers: workers})
		}
		return ss
	}
	back := append(saturated(&two),
		sample{at: 65, backlog: 300, in: 100, out: 200, workers: &two}, // four served, two counted
		sample{at: 70, backlog: 200, in: 100, out: 200, workers: &four})
	res := run(back)
	within(t, "expected wait once four are counted", res[len(back)-1]["C_expected_wait"], 200.0/40, 0.05)

	faster := append(saturated(&two),
		sample{at: 65, backlog: 300, in: 100, out: 200, workers: &two}, // the two twice as fast
		sample{at: 70, backlog: 200, in: 100, out: 200, workers: &two})
	res = run(faster)
	within(t, "expected wait after a true speed-up", res[len(faster)-1]["C_expected_wait"], 200.0/40, 0.05)
}
