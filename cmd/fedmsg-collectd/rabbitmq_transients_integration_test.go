package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// brokerPhase is a stretch of TestRabbitMQIntegration: from its start
// (seconds into the run), messages published at rate a second, and burst
// messages at once at its start. Phases start between the plugin's polls.
type brokerPhase struct {
	name       string
	from, rate float64
	burst      int
}

var brokerPhases = []brokerPhase{
	{name: "steady", from: 0, rate: 18},
	{name: "overload", from: 7.5, rate: 45},
	{name: "drain", from: 32.5, rate: 9},
	{name: "quiet", from: 52.5, rate: 0.2},
	{name: "burst", from: 62.5, rate: 0.2, burst: 300},
	{name: "after", from: 77.5},
}

// messageLog is every message's publication and delivery, by sequence.
type messageLog struct {
	mu        sync.Mutex
	published []float64 // unix seconds, in sequence order
	delivered []float64 // unix seconds by sequence; 0 until delivered
}

func (l *messageLog) publish(at float64) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.published = append(l.published, at)
	l.delivered = append(l.delivered, 0)
	return len(l.published) - 1
}

func (l *messageLog) deliver(seq int, at float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.delivered[seq] = at
}

// undelivered counts the messages not delivered yet.
func (l *messageLog) undelivered() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, d := range l.delivered {
		if d == 0 {
			n++
		}
	}
	return n
}

// skewedTime draws a processing time of mean 0.1 s: log-normal, and 1 %
// take a full second.
func skewedTime(r *rand.Rand) time.Duration {
	if r.Float64() < 0.01 {
		return time.Second
	}
	return time.Duration(0.0803 * math.Exp(0.5*r.NormFloat64()) * float64(time.Second))
}

func unixNow() float64 { return float64(time.Now().UnixNano()) / 1e9 }

// TestRabbitMQIntegration: a real broker's durable queue with three
// consumers of skewed processing times (prefetch 1, about 30 msg/s in
// all), Poisson publishing through a steady state, an overload, a drain,
// a quiet spell and a burst of 300 at once, every message's publication
// and delivery logged; and a queue nobody consumes. The plugin polls every
// 5 s; each figure it writes is judged at its own time stamp against that
// truth, per phase, and the table logged (docs/rabbitmq.md quotes it). The
// Nagios check runs during the overload.
func TestRabbitMQIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	conn, mgmt := sharedRabbitMQ(t)
	pubCh, _ := conn.Channel()
	for _, q := range []string{"transient", "orphan"} {
		if _, err := pubCh.QueueDeclare(q, true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	pubCh.PublishWithContext(t.Context(), "", "orphan", false, false, amqp.Publishing{Body: []byte("0")})
	var log messageLog
	consumeLogged(t, conn, "transient", 3, &log)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errs testhub.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--socket-dir=", "--rabbitmq", "http://guest:guest@" + mgmt, "--rabbitmq-interval", "5s",
			"--interval", "1s", "--hostname", "h"}, &out, &errs)
	}()
	// The plugin runs before the load starts, as it does where it is
	// installed: it has counted the queue's messages in and out (its
	// first snapshot, made before the broker's first statistics of the
	// new queue, has its lengths only; the next, the first counts, the
	// base the later ones add to; its arrival rate, the first counted
	// window). Otherwise the curves of Little's wait would begin after
	// the load did and leave out the messages it first served.
	const backlogID = "h/fedmsg_rabbitmq-default/queue_length-transient_backlog"
	eventually(t, 30*time.Second, "the plugin's first counts of the queue", func() (bool, string) {
		at, _ := putvals(out.String(), "h/fedmsg_rabbitmq-default/operations_per_second-transient_arrival_rate")
		return len(at) > 0, errs.String()
	})
	checkOut := make(chan string, 1)
	state := t.TempDir()
	counterLags := make(chan []float64, 1)
	start := time.Now()
	go func() {
		// Pacing: the check runs in the overload, once more messages wait
		// than the consumers serve between its two snapshots (5 s): below
		// that its expected wait is under 5 s, and it says it has not seen
		// the consumers' capacity.
		time.Sleep(time.Until(start.Add(24 * time.Second)))
		var o, e testhub.Buffer
		code := run(ctx, []string{"check", "--state-dir", state, "--rabbitmq", "http://guest:guest@" + mgmt, "--queue", "transient", "--queue", "orphan",
			"--wait-warning", "1000", "--timeout", "40s"}, &o, &e)
		checkOut <- fmt.Sprintf("%d %s%s", code, o.String(), e.String())
	}()
	go func() { counterLags <- publishCounterLags(ctx, managementPublished(mgmt), &log) }()

	publishPhases(t, ctx, pubCh, "transient", brokerPhases, start, &log)
	awaitDrained(t, &log, &out, backlogID)
	cancel()
	<-done
	if c := <-checkOut; !strings.HasPrefix(c, "2 FEDMSG CRITICAL - orphan consumers 0") || !strings.Contains(c, "transient: backlog") || !strings.Contains(c, "consumers 3, expected wait ") {
		t.Errorf("check: exit and output %q", c)
	} else {
		t.Logf("check: %s", c)
	}
	for _, l := range strings.Split(strings.TrimSpace(errs.String()), "\n") {
		if l != "" && !strings.Contains(l, "cannot poll the broker") {
			t.Errorf("stderr: %s", l) // a broker answers 500 while it starts
		}
	}
	judgeRun(t, out.String(), transientJudged, &log, <-counterLags, start)
}

// managementPublished reads the queue transient's publish counter from
// the management API.
func managementPublished(mgmt string) func() int {
	return func() int {
		resp, err := http.Get("http://guest:guest@" + mgmt + "/api/queues/%2F/transient?columns=message_stats.publish")
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		var q struct {
			Stats struct{ Publish int } `json:"message_stats"`
		}
		json.NewDecoder(resp.Body).Decode(&q)
		return q.Stats.Publish
	}
}

// publishCounterLags reads a queue's publish counter once a second
// until ctx ends, and returns how long before each read the counter's
// value was the true count of messages published.
func publishCounterLags(ctx context.Context, read func() int, log *messageLog) []float64 {
	var lags []float64
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return lags
		case <-tick.C:
		}
		n := read()
		at := unixNow()
		log.mu.Lock()
		// The counter said n: true from the n-th publication to the next
		// (or the read); taken where that is known within 0.5 s.
		if n > 0 && n <= len(log.published) {
			lo, hi := log.published[n-1], at
			if n < len(log.published) {
				hi = min(at, log.published[n])
			}
			if hi-lo < 0.5 {
				lags = append(lags, at-(lo+hi)/2)
			}
		}
		log.mu.Unlock()
	}
}

// consumeLogged starts n consumers of a queue, each on a channel of its
// own with prefetch 1 and skewed processing times, logging each delivery.
func consumeLogged(t *testing.T, conn *amqp.Connection, queue string, n int, log *messageLog) {
	t.Helper()
	for i := range n {
		ch, _ := conn.Channel()
		ch.Qos(1, 0, false)
		deliveries, err := ch.Consume(queue, fmt.Sprint("c", i), false, false, false, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(i), 23))
		go func() {
			for d := range deliveries {
				seq, _ := strconv.Atoi(string(d.Body))
				log.deliver(seq, unixNow())
				time.Sleep(skewedTime(rng)) // the consumer's work
				d.Ack(false)
			}
		}()
	}
}

// publishPhases publishes to a queue through the phases from start,
// Poisson at each phase's rate, logging each publication; it returns at
// the start of the last phase.
func publishPhases(t *testing.T, ctx context.Context, ch *amqp.Channel, queue string, phases []brokerPhase, start time.Time, log *messageLog) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 23))
	publish := func() {
		at := unixNow()
		seq := log.publish(at)
		// The AMQP timestamp (whole seconds), which fedora-messaging does
		// not set, so that a broker can tell its head message's age.
		stamp := time.Unix(int64(at), 0)
		if err := ch.PublishWithContext(ctx, "", queue, false, false, amqp.Publishing{Body: []byte(strconv.Itoa(seq)), Timestamp: stamp}); err != nil {
			t.Fatal(err)
		}
	}
	for i, ph := range phases[:len(phases)-1] {
		time.Sleep(time.Until(start.Add(time.Duration(ph.from * float64(time.Second)))))
		for range ph.burst {
			publish()
		}
		end := start.Add(time.Duration(phases[i+1].from * float64(time.Second)))
		for next := time.Now(); ; {
			next = next.Add(time.Duration(rng.ExpFloat64() / ph.rate * float64(time.Second)))
			if next.After(end) {
				break
			}
			time.Sleep(time.Until(next)) // pacing the publisher, not synchronising
			publish()
		}
	}
}

// awaitDrained waits for every message of the log delivered, then for
// the plugin's snapshot of the empty queue.
func awaitDrained(t *testing.T, log *messageLog, out *testhub.Buffer, backlogID string) {
	t.Helper()
	eventually(t, 60*time.Second, "every message delivered", func() (bool, string) {
		n := log.undelivered()
		return n == 0, fmt.Sprintf("%d undelivered", n)
	})
	emptyAt := unixNow()
	eventually(t, 30*time.Second, "a snapshot of the empty queue", func() (bool, string) {
		at, v := putvals(out.String(), backlogID)
		return len(at) > 0 && at[len(at)-1] > emptyAt && v[len(v)-1] == 0, "none yet"
	})
}
