package rabbitmq

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// promSource returns a Prometheus source of the given nodes, stand-ins
// answering with each one's body.
func promSource(t *testing.T, nodes ...*broker) *Source {
	t.Helper()
	s := &Source{Name: "mq", Interval: 10 * time.Second, Now: func() time.Time { return clock }}
	for _, b := range nodes {
		if b.status == 0 {
			b.status = http.StatusOK
		}
		srv := httptest.NewServer(b)
		t.Cleanup(srv.Close)
		s.Nodes = append(s.Nodes, srv.URL)
	}
	s.init()
	return s
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// consumerOf returns the queue's entry of a vhost's snapshot.
func consumerOf(t *testing.T, snaps map[string]model.Message, service, queue string) model.Consumer {
	t.Helper()
	m, ok := snaps[service]
	if !ok || m.Snapshot == nil {
		t.Fatalf("no snapshot of %s in %v", service, snaps)
	}
	for _, c := range m.Snapshot.Consumers {
		if c.Name == queue {
			return c
		}
	}
	t.Fatalf("no queue %s in %s", queue, service)
	return model.Consumer{}
}

// TestExposition310: a real 3.10 node's answer (recorded): lengths and
// consumers from the queue families, messages in summed over the
// publishing channels, messages out over the consuming ones; the
// request asks for the families of both versions until the first
// answer tells the version, then only 3.x's.
func TestExposition310(t *testing.T) {
	b := &broker{body: readFile(t, "testdata/detailed-3.10.txt")}
	s := promSource(t, b)
	if _, err := poll(t, s); err != nil {
		t.Fatal(err)
	}
	first := b.reqs[0].URL
	if first.Path != "/metrics/detailed" || len(first.Query()["family"]) != 6 {
		t.Errorf("first request %s: want /metrics/detailed with the 6 families", first)
	}
	st := s.reader.(*prometheus).queues[qkey{"/", "classic"}].acc
	if st.publish != 0 || st.deliver != 0 {
		t.Errorf("the first answer counted %v: it only sets the baseline", st)
	}
	// More messages in on one channel, out on another: the deltas.
	body := strings.Replace(readFile(t, "testdata/detailed-3.10.txt"),
		`queue_messages_published_total{channel="<0.868.0>",queue_vhost="/",queue="classic",exchange_vhost="/",exchange=""} 5`,
		`queue_messages_published_total{channel="<0.868.0>",queue_vhost="/",queue="classic",exchange_vhost="/",exchange=""} 9`, 1)
	body = strings.Replace(body, `channel_messages_delivered_ack_total{channel="<0.853.0>",vhost="/",queue="classic"} 2`,
		`channel_messages_delivered_ack_total{channel="<0.853.0>",vhost="/",queue="classic"} 5`, 1)
	b.set(http.StatusOK, body)
	snaps, err := poll(t, s)
	if err != nil {
		t.Fatal(err)
	}
	fams := b.reqs[1].URL.Query()["family"]
	if strings.Join(fams, ",") != "queue_coarse_metrics,queue_consumer_count,channel_queue_exchange_metrics,channel_queue_metrics" {
		t.Errorf("a 3.10 node is asked for %v", fams)
	}
	c := consumerOf(t, snaps, "mq-default", "classic")
	// When the queue reported is not known yet (its reductions have not
	// changed since the first answer): its lengths as reported.
	if c.Backlog.V != 13 || c.InService.V != 1 || c.Workers.V != 1 || c.HeadcountIn.V != 4 || c.HeadcountOut.V != 3 {
		t.Errorf("classic: backlog %v unacked %v consumers %v in %v out %v; want 13, 1, 1, 4, 3",
			c.Backlog.V, c.InService.V, c.Workers.V, c.HeadcountIn.V, c.HeadcountOut.V)
	}
}

// TestExposition4: 4.x's per-queue counters (an exposition written after
// its collector's source) are read, and its queue types told.
func TestExposition4(t *testing.T) {
	e, err := decodeExposition(strings.NewReader(readFile(t, "testdata/detailed-4.x.txt")), 1000, nil, nil, perQueue, true)
	if err != nil {
		t.Fatal(err)
	}
	if e.major != 4 {
		t.Fatalf("major %d", e.major)
	}
	// Every series new, of a node heard before: counted whole.
	q := e.queues[qkey{"/", "classic"}]
	if q.in != 22 || q.out != 9 || q.redeliver != 1 || q.typ != "classic" || !q.leader {
		t.Errorf("classic: in %v out %v redelivered %v type %q leader %v; want 22, 9 (2+4+3), 1, classic, leader", q.in, q.out, q.redeliver, q.typ, q.leader)
	}
	if e.queues[qkey{"/", "quorum"}].typ != "quorum" || e.queues[qkey{"/", "stream"}].typ != "stream" {
		t.Error("the quorum queue's or stream's type is not told")
	}
	b := &broker{body: readFile(t, "testdata/detailed-4.x.txt")}
	s := promSource(t, b)
	poll(t, s)
	poll(t, s)
	if fams := b.reqs[1].URL.Query()["family"]; strings.Join(fams, ",") != "queue_coarse_metrics,queue_consumer_count,queue_exchange_metrics,queue_delivery_metrics" {
		t.Errorf("a 4.x node is asked for %v", fams)
	}
}

// expo is an exposition of one queue q: its lengths, and a counter in per
// publishing channel and out per consuming channel.
func expo(ready float64, in, out map[string]float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "rabbitmq_detailed_queue_messages_ready{vhost=\"/\",queue=\"q\"} %v\n", ready)
	fmt.Fprintf(&b, "rabbitmq_detailed_queue_messages_unacked{vhost=\"/\",queue=\"q\"} 0\n")
	for ch, v := range in {
		fmt.Fprintf(&b, "rabbitmq_detailed_queue_messages_published_total{channel=%q,queue_vhost=\"/\",queue=\"q\",exchange_vhost=\"/\",exchange=\"\"} %v\n", ch, v)
	}
	for ch, v := range out {
		fmt.Fprintf(&b, "rabbitmq_detailed_channel_messages_delivered_ack_total{channel=%q,vhost=\"/\",queue=\"q\"} %v\n", ch, v)
	}
	b.WriteString("rabbitmq_build_info{rabbitmq_version=\"3.10.8\"} 1\n")
	return b.String()
}

// TestChannelsComeAndGo: 3.x's counters are per channel; a channel that
// closes takes its counters with it, one that opens brings new ones. The
// counts in and out are the sum of each channel's own increments: never
// negative, nothing counted twice, a new channel's whole count added.
func TestChannelsComeAndGo(t *testing.T) {
	b := &broker{body: expo(5, map[string]float64{"<0.1.0>": 100, "<0.2.0>": 50}, map[string]float64{"<0.3.0>": 70})}
	s := promSource(t, b)
	poll(t, s)
	// <0.2.0> closed (its 50 and what it published since vanish), <0.4.0>
	// opened and published 7; the consumer's channel was replaced.
	b.set(http.StatusOK, expo(5, map[string]float64{"<0.1.0>": 110, "<0.4.0>": 7}, map[string]float64{"<0.5.0>": 12}))
	snaps, _ := poll(t, s)
	c := consumerOf(t, snaps, "mq-default", "q")
	if c.HeadcountIn.V != 17 || c.HeadcountOut.V != 12 {
		t.Errorf("in %v out %v: want 10+7 and 12", c.HeadcountIn.V, c.HeadcountOut.V)
	}
	// A node restart: every channel new, with low counts.
	b.set(http.StatusOK, expo(5, map[string]float64{"<0.1.0>": 3}, nil))
	snaps, _ = poll(t, s)
	if c := consumerOf(t, snaps, "mq-default", "q"); c.HeadcountIn.V != 3 || c.HeadcountOut.V != 0 {
		t.Errorf("after a restart in %v out %v: want 3 and 0", c.HeadcountIn.V, c.HeadcountOut.V)
	}
}

// TestClusterMerge: two nodes of one cluster. Each queue is reported
// once, with the lengths of the node that hosts it and the counters of
// both (a publisher on one node, a consumer on the other). A node that
// stops answering is left out; when it answers again, its channels'
// counts while away are not counted in one burst.
func TestClusterMerge(t *testing.T) {
	n1 := &broker{body: expo(5, map[string]float64{"<1.1.0>": 100}, nil)}
	// n2 reports q's counters only (q is hosted on n1), and r.
	two := expo(0, nil, map[string]float64{"<2.1.0>": 40}) + "rabbitmq_detailed_queue_messages_ready{vhost=\"/\",queue=\"r\"} 2\n"
	two = strings.Replace(two, "rabbitmq_detailed_queue_messages_ready{vhost=\"/\",queue=\"q\"} 0\n", "", 1)
	two = strings.Replace(two, "rabbitmq_detailed_queue_messages_unacked{vhost=\"/\",queue=\"q\"} 0\n", "", 1)
	n2 := &broker{body: two}
	s := promSource(t, n1, n2)
	poll(t, s)
	n1.set(http.StatusOK, expo(6, map[string]float64{"<1.1.0>": 130}, nil))
	n2.set(http.StatusOK, strings.Replace(two, "} 40", "} 65", 1))
	snaps, err := poll(t, s)
	if err != nil {
		t.Fatal(err)
	}
	m := snaps["mq-default"]
	if len(m.Snapshot.Consumers) != 2 {
		t.Fatalf("queues %+v: want q and r once each", m.Snapshot.Consumers)
	}
	c := consumerOf(t, snaps, "mq-default", "q")
	if c.Backlog.V != 6 || c.HeadcountIn.V != 30 || c.HeadcountOut.V != 25 {
		t.Errorf("q: backlog %v in %v out %v; want 6, 30, 25", c.Backlog.V, c.HeadcountIn.V, c.HeadcountOut.V)
	}
	// n2 away for a poll, back with 40 more: counted when it is back.
	n2.set(http.StatusServiceUnavailable, "")
	snaps, err = poll(t, s)
	if err != nil {
		t.Fatalf("one node of two answering is a poll: %v", err)
	}
	if _, ok := snaps["mq-default"]; !ok {
		t.Fatal("no snapshot while one node answers")
	}
	n2.set(http.StatusOK, strings.Replace(two, "} 40", "} 105", 1))
	snaps, _ = poll(t, s)
	if c := consumerOf(t, snaps, "mq-default", "q"); c.HeadcountOut.V != 40 {
		t.Errorf("out %v after the node's return: want the 40 it counted meanwhile", c.HeadcountOut.V)
	}
	// Both away: the poll failed.
	n1.set(http.StatusServiceUnavailable, "")
	n2.set(http.StatusServiceUnavailable, "")
	if _, err := poll(t, s); err == nil || !strings.Contains(err.Error(), "no node of the cluster answers") {
		t.Errorf("both nodes away: %v", err)
	}
}

// TestWholeBacklog: a queue's ready messages brought to the poll's moment
// are an estimate; what is reported is a whole number, as rabbitmqctl
// list_queues says.
func TestWholeBacklog(t *testing.T) {
	withReport := func(ready float64, in, out float64, reductions int) string {
		return expo(ready, map[string]float64{"<0.1.0>": in}, map[string]float64{"<0.2.0>": out}) +
			fmt.Sprintf("rabbitmq_detailed_queue_process_reductions_total{vhost=\"/\",queue=\"q\"} %d\n", reductions)
	}
	b := &broker{body: withReport(7, 10, 3, 1)}
	s := promSource(t, b)
	poll(t, s)
	b.set(http.StatusOK, withReport(7, 10, 3, 2)) // quiet: V exact
	poll(t, s)
	for i, r := range []struct{ ready, in, out float64 }{{70, 110, 28}, {75, 173, 61}, {91, 241, 90}} {
		b.set(http.StatusOK, withReport(r.ready, r.in, r.out, 3+i))
		snaps, _ := poll(t, s)
		c := consumerOf(t, snaps, "mq-default", "q")
		if c.Backlog.V != math.Round(c.Backlog.V) {
			t.Errorf("poll %d: backlog %v, not a whole number", i+3, c.Backlog.V)
		}
	}
}

// TestClosedChannelLeavesNothing: a consumer's channel that closes (3.x)
// takes with it what it counted since the previous poll; the ready
// messages brought forward by the counts would keep those messages for
// good. They are as the queue reports them until a report places them
// again.
func TestClosedChannelLeavesNothing(t *testing.T) {
	report := func(ready, in float64, out map[string]float64, reductions int) string {
		return expo(ready, map[string]float64{"<0.1.0>": in}, out) +
			fmt.Sprintf("rabbitmq_detailed_queue_process_reductions_total{vhost=\"/\",queue=\"q\"} %d\n", reductions)
	}
	// 50 in and 50 out each poll, 10 waiting, a report each poll.
	b := &broker{body: report(10, 0, map[string]float64{"<0.2.0>": 0}, 0)}
	s := promSource(t, b)
	poll(t, s)
	backlog := func(i int) float64 {
		snaps, err := poll(t, s)
		if err != nil {
			t.Fatal(err)
		}
		return consumerOf(t, snaps, "mq-default", "q").Backlog.V
	}
	for i := 1; i <= 4; i++ {
		b.set(http.StatusOK, report(10, float64(50*i), map[string]float64{"<0.2.0>": float64(50 * i)}, i))
		if got := backlog(i); got != 10 {
			t.Errorf("poll %d: backlog %v, want 10", i, got)
		}
	}
	// <0.2.0> delivered 20 more and closed; <0.3.0> delivered 30.
	for i := 5; i <= 7; i++ {
		b.set(http.StatusOK, report(10, float64(50*i), map[string]float64{"<0.3.0>": float64(50*(i-5) + 30)}, i))
		if got := backlog(i); math.Abs(got-10) > 1 {
			t.Errorf("poll %d, after the consumer's channel closed: backlog %v, want 10", i, got)
		}
	}
}
