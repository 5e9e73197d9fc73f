package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// incidentPhases is TestRabbitMQIncidentIntegration's load: 24 msg/s
// throughout (80 % of three consumers' 30), while one consumer goes away
// for 15 s and comes back, then every processing time doubles for 15 s;
// each backlog drains within its phase.
var incidentPhases = []brokerPhase{
	{name: "steady", from: 0, rate: 24},
	{name: "consumer lost", from: 10.5, rate: 24},
	{name: "consumer back", from: 25.5, rate: 24},
	{name: "slowed", from: 50.5, rate: 24},
	{name: "recovering", from: 65.5, rate: 24},
	{name: "after", from: 120.5},
}

// incidentJudged is what TestRabbitMQIncidentIntegration asserts of each
// source: an expected wait from the first snapshot of each phase where
// messages wait, and bounds coarser than TestRabbitMQIntegration's, as
// measured (docs/rabbitmq.md): the consumers' speed is the machine's
// (sleeps, and a loaded CI run's scheduling), so the truth moves under
// load (40 %); in the loss and the slowdown, the median of two snapshots
// is the first poll after the change, which has seen at most a window of
// the new speed (75 %); right after the consumer comes back, the drain
// time comes from the capacity the messages held tell, a lower bound
// near the arrival rate (not bounded).
var incidentJudged = judged{prefix: "h/fedmsg_rabbitmq-default/", queue: "incident", phases: incidentPhases, lag: 0.5,
	bounds: map[string]float64{"backlog": 0.05, "expected_wait": 0.4, "wait (Little)": 0.4, "drain_time": 0.5,
		"expected_wait consumer lost": 0.75, "expected_wait slowed": 0.75, "drain_time consumer back": math.Inf(1)},
	need: []judgedRow{{"expected_wait", "consumer lost"}, {"expected_wait", "consumer back"}, {"expected_wait", "slowed"},
		{"expected_wait", "recovering"}, {"drain_time", "consumer back"}, {"drain_time", "recovering"}},
	// The consumers' changes, and the publisher's end, which makes the
	// queue's last messages drain at once.
	changes: []float64{10.5, 25.5, 50.5, 65.5, 120.5},
	// The Prometheus source places a busy queue's ready messages between
	// its reports, and anew after a consumer's cancellation took its
	// channel's counters: within a few messages.
	slack: 3}

// TestRabbitMQIncidentIntegration: a real broker's queue through an
// incident, the hold-out of issue 34: three consumers of skewed
// processing times (prefetch 1, 30 msg/s in all) at 24 msg/s; one of them
// cancels its consumption for 15 s (the queue grows) and consumes again
// (it drains); then every processing time doubles for 15 s (it grows),
// and recovers (it drains). Every message's publication and delivery is
// logged; the management source and the Prometheus source poll every 5 s
// side by side, and each value each writes is judged at its own time
// stamp, per phase.
func TestRabbitMQIncidentIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	conn, mgmt := sharedRabbitMQ(t)
	pubCh, _ := conn.Channel()
	if _, err := pubCh.QueueDeclare(incidentJudged.queue, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errs, pout, perrs testhub.Buffer
	done := make(chan int, 2)
	go func() {
		done <- run(ctx, []string{"--socket-dir=", "--rabbitmq", "http://guest:guest@" + mgmt, "--rabbitmq-interval", "5s",
			"--interval", "1s", "--hostname", "h"}, &out, &errs)
	}()
	go func() {
		done <- run(ctx, []string{"--socket-dir=", "--rabbitmq-prometheus", "http://" + shared.b.prom, "--rabbitmq-interval", "5s",
			"--interval", "1s", "--hostname", "h"}, &pout, &perrs)
	}()
	backlogID := incidentJudged.id("queue_length", "backlog")
	for _, o := range []*testhub.Buffer{&out, &pout} {
		eventually(t, 30*time.Second, "each source's first counts of the queue", func() (bool, string) {
			at, _ := putvals(o.String(), incidentJudged.id("operations_per_second", "arrival_rate"))
			return len(at) > 0, errs.String() + perrs.String()
		})
	}
	var log messageLog
	start := time.Now()
	at := func(phase string) time.Time {
		for _, p := range incidentPhases {
			if p.name == phase {
				return start.Add(time.Duration(p.from * float64(time.Second)))
			}
		}
		panic(phase)
	}
	lostFrom, lostTo, slowFrom, slowTo := at("consumer lost"), at("consumer back"), at("slowed"), at("recovering")
	for i := range 3 {
		go incidentConsumer(t, ctx, conn, i, &log, func(now time.Time) (gone bool, factor float64) {
			factor = 1
			if now.After(slowFrom) && now.Before(slowTo) {
				factor = 2
			}
			return i == 2 && now.After(lostFrom) && now.Before(lostTo), factor
		}, lostTo)
	}
	publishPhases(t, ctx, pubCh, incidentJudged.queue, incidentPhases, start, &log)
	awaitDrained(t, &log, &out, backlogID)
	awaitDrained(t, &log, &pout, backlogID)
	cancel()
	<-done
	<-done
	for _, src := range []struct {
		name string
		out  *testhub.Buffer
	}{{"management", &out}, {"prometheus", &pout}} {
		t.Run(src.name, func(t *testing.T) {
			judgeBroker(t, src.out.String(), incidentJudged, &log, float64(start.UnixNano())/1e9)
		})
	}
}

// incidentConsumer consumes the queue as consumer i, logging each
// delivery: its work takes a skewed time times the factor of the moment;
// while gone it has cancelled its consumption (what it was given, it
// finishes and acknowledges), and it consumes again at back.
func incidentConsumer(t *testing.T, ctx context.Context, conn *amqp.Connection, i int, log *messageLog,
	state func(time.Time) (gone bool, factor float64), back time.Time) {
	ch, err := conn.Channel()
	if err != nil {
		t.Error(err)
		return
	}
	ch.Qos(1, 0, false)
	rng := rand.New(rand.NewPCG(uint64(i), 31))
	tag := fmt.Sprint("incident", i)
	for ctx.Err() == nil {
		deliveries, err := ch.Consume(incidentJudged.queue, tag, false, false, false, false, nil)
		if err != nil {
			t.Error(err)
			return
		}
		cancelled := false
		for d := range deliveries {
			seq, _ := strconv.Atoi(string(d.Body))
			log.deliver(seq, unixNow())
			_, factor := state(time.Now())
			time.Sleep(time.Duration(factor * float64(skewedTime(rng)))) // the consumer's work
			d.Ack(false)
			if gone, _ := state(time.Now()); gone && !cancelled {
				ch.Cancel(tag, false) // the deliveries end once those under way are in
				cancelled = true
			}
		}
		if !cancelled {
			return // the connection closed
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(back)): // pacing: the consumer's absence
		}
	}
}
