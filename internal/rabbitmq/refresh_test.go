package rabbitmq

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLengthsBroughtForward: a queue reports its lengths 3 s into a
// poll's window of 4.5 s; a read of the lengths alone 2 s in saw the
// report before; so the report is placed at 3.25 s, and the ready
// messages of the poll are those reported plus the window's last 1.25 s
// of messages in (100 over the window) less those out (20).
func TestLengthsBroughtForward(t *testing.T) {
	body := func(ready, reductions, in, out int) string {
		return strings.Join([]string{
			`rabbitmq_detailed_queue_messages_ready{vhost="/",queue="q"} ` + itoa(ready),
			`rabbitmq_detailed_queue_process_reductions_total{vhost="/",queue="q"} ` + itoa(reductions),
			`rabbitmq_detailed_queue_messages_published_total{channel="<0.1.0>",queue_vhost="/",queue="q",exchange_vhost="/",exchange=""} ` + itoa(in),
			`rabbitmq_detailed_channel_messages_delivered_ack_total{channel="<0.2.0>",vhost="/",queue="q"} ` + itoa(out),
			`rabbitmq_build_info{rabbitmq_version="3.10.8"} 1`, ""}, "\n")
	}
	b := &broker{body: body(10, 100, 0, 0)}
	s := promSource(t, b)
	start := clock
	poll(t, s) // the baseline, at start
	n := s.prom.nodes[0]
	e, err := s.getExposition(t.Context(), n, true)
	if err != nil {
		t.Fatal(err)
	}
	n.refresh.observe(e, start.Add(2*time.Second)) // no report yet
	if got := b.reqs[1].URL.Query()["family"]; len(got) != 1 || got[0] != "queue_coarse_metrics" {
		t.Errorf("the read of lengths alone asks for %v", got)
	}
	b.set(http.StatusOK, body(40, 200, 100, 20))
	snaps, err := poll(t, s) // at start + MinSpacing
	if err != nil {
		t.Fatal(err)
	}
	c := consumerOf(t, snaps, "mq-default", "q")
	want := 40 + (100-20)*1.25/4.5
	if math.Abs(c.Backlog.V-want) > 1e-9 {
		t.Errorf("backlog %v, want %v", c.Backlog.V, want)
	}
	if c.HeadcountIn.V != 100 || c.HeadcountOut.V != 20 {
		t.Errorf("in %v out %v", c.HeadcountIn.V, c.HeadcountOut.V)
	}
	// No report since: what the previous poll brought forward is brought
	// on over the whole window.
	b.set(http.StatusOK, body(40, 200, 130, 30))
	snaps, _ = poll(t, s)
	if c := consumerOf(t, snaps, "mq-default", "q"); math.Abs(c.Backlog.V-(want+30-10)) > 1e-9 {
		t.Errorf("backlog %v, want %v", c.Backlog.V, want+20)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestQuietAfterBurst: 300 messages in at once, 200 out, then nothing:
// the report after them is exact, and once no message passed for a
// statistics interval and more, it is taken as it is, not brought
// forward as if the burst had spread over the poll's window.
func TestQuietAfterBurst(t *testing.T) {
	k := qkey{"/", "q"}
	t0 := time.Unix(1796216400, 0)
	var h history
	h.add(t0, map[qkey]totals{k: {0, 0}})
	// The burst at 1 s, the report at 4 s: placed at 4 s, but the even
	// spread puts 60 % of the burst after it.
	cur := totals{300, 200}
	first := h.bringForward(k, 100, t0.Add(4*time.Second), t0.Add(10*time.Second), cur)
	if first != 100+0.6*100 {
		t.Errorf("first poll after the burst: %v, want 160 (the even spread)", first)
	}
	h.add(t0.Add(10*time.Second), map[qkey]totals{k: cur})
	if got := h.bringForward(k, 100, t0.Add(4*time.Second), t0.Add(20*time.Second), cur); got != 100 {
		t.Errorf("a poll later, nothing passed for 10 s: %v, want the 100 reported", got)
	}
}
