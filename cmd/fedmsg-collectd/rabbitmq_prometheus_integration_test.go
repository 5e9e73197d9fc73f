package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// promPhases is the load of TestRabbitMQPrometheusIntegration: a steady
// state, an overload, a drain.
var promPhases = []brokerPhase{
	{name: "steady", from: 0, rate: 18},
	{name: "overload", from: 7.5, rate: 45},
	{name: "drain", from: 27.5, rate: 9},
	{name: "after", from: 47.5},
}

// TestRabbitMQPrometheusIntegration: a broker whose management plugin
// collects no statistics (management_agent.disable_metrics_collector =
// true), read through its Prometheus plugin: a durable queue with three
// consumers of skewed times, Poisson publishing through a steady state,
// an overload and a drain, every message's publication and delivery
// logged. The backlog, the arrival rate, the expected wait, Little's
// wait and the drain time written are judged at their own time stamps
// against that truth. The management source on the same broker reports
// the lengths only, and says once what the broker withholds.
func TestRabbitMQPrometheusIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	b, err := launchRabbitMQWith(t.TempDir(), rabbitOptions{conf: "management_agent.disable_metrics_collector = true\n"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.stop()
	conn, mgmt := dialRabbitMQ(t, b)
	pubCh, _ := conn.Channel()
	if _, err := pubCh.QueueDeclare("transient", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	var log messageLog
	consumeLogged(t, conn, "transient", 3, &log)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errs, mout, merrs testhub.Buffer
	done := make(chan int, 2)
	go func() {
		done <- run(ctx, []string{"--socket-dir=", "--rabbitmq-prometheus", "http://" + b.prom, "--rabbitmq-interval", "5s",
			"--interval", "1s", "--hostname", "h"}, &out, &errs)
	}()
	go func() {
		done <- run(ctx, []string{"--socket-dir=", "--rabbitmq", "mgmt=http://guest:guest@" + mgmt, "--rabbitmq-interval", "5s",
			"--interval", "1s", "--hostname", "h"}, &mout, &merrs)
	}()
	// The bounds of TestRabbitMQIntegration's management source, whose
	// lengths are those of the poll's moment: these are brought there
	// from the queue's last report with the counters.
	j := judged{prefix: "h/fedmsg_rabbitmq-default/", queue: "transient", phases: promPhases, lag: 0.5,
		bounds: map[string]float64{"backlog": 0.05, "expected_wait": 0.3, "wait (Little)": 0.4, "wait (Little) overload": 0.7, "drain_time": 0.5},
		need:   transientJudged.need}
	backlogID := j.id("queue_length", "backlog")
	eventually(t, 30*time.Second, "the plugin's first snapshot of the queue", func() (bool, string) {
		at, _ := putvals(out.String(), backlogID)
		return len(at) > 0, errs.String()
	})
	counterLags := make(chan []float64, 1)
	go func() { counterLags <- publishCounterLags(ctx, prometheusPublished(b.prom), &log) }()
	start := time.Now()
	publishPhases(t, ctx, pubCh, "transient", promPhases, start, &log)
	awaitDrained(t, &log, &out, backlogID)
	cancel()
	<-done
	<-done
	for _, l := range strings.Split(strings.TrimSpace(errs.String()), "\n") {
		if l != "" && !strings.Contains(l, "cannot poll the broker") {
			t.Errorf("stderr: %s", l)
		}
	}
	judgeRun(t, out.String(), j, &log, <-counterLags, start)

	// The management source: lengths only, and why.
	ms := mout.String()
	if at, _ := putvals(ms, "h/mgmt-default/queue_length-transient_backlog"); len(at) < 3 {
		t.Errorf("the management source wrote %d backlogs of the queue:\n%.2000s\n%s", len(at), ms, merrs.String())
	}
	if strings.Contains(ms, "transient_arrival_rate") || strings.Contains(ms, "transient_in\"") {
		t.Errorf("the management source wrote counts the broker withholds:\n%.3000s", ms)
	}
	if n := strings.Count(merrs.String(), "withholds its statistics"); n != 1 || !strings.Contains(merrs.String(), "--rabbitmq-prometheus") {
		t.Errorf("the management source logged the statistics withheld %d times:\n%s", n, merrs.String())
	}
}

// prometheusPublished reads the queue transient's publish counters from a
// node's Prometheus listener, summed over the channels.
func prometheusPublished(prom string) func() int {
	re := regexp.MustCompile(`rabbitmq_detailed_queue_messages_published_total\{[^}]*queue="transient"[^}]*\} (\d+)`)
	return func() int {
		resp, err := http.Get("http://" + prom + "/metrics/detailed?family=channel_queue_exchange_metrics")
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		n := 0
		for _, m := range re.FindAllStringSubmatch(string(body), -1) {
			v, _ := strconv.Atoi(m[1])
			n += v
		}
		return n
	}
}
