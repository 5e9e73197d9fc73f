package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// TestZabbixTriggersIntegration: both templates' triggers on a real
// broker's queue, through Debian's Zabbix server, each driven into
// PROBLEM and back to OK on a host of each (the trapper's, pushed to;
// the agent's, read by Debian's zabbix_agentd): a queue that grows with
// no consumer for the whole of its periods (20 s here, by host macros)
// and holds more than its count macros; then a consumer empties it. Then
// a consumer that holds a message and takes nothing more: the stall,
// oldest-age and both wait triggers; then another empties the queue. A
// queue the hosts' LLD filter macro leaves out gets no items.
func TestZabbixTriggersIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	macros := map[string]string{`{$FEDMSG.GROWTH.PERIOD}`: "20s", `{$FEDMSG.NOCONSUMER.PERIOD}`: "20s",
		`{$FEDMSG.BACKLOG.WARN:"zq"}`: "5", `{$FEDMSG.BACKLOG.CRIT:"zq"}`: "8",
		`{$FEDMSG.LLD.FILTER.CONSUMER.NOT_MATCHES}`: "^zq_skip$",
		`{$FEDMSG.STALL.MAX:"zq"}`:                  "10", `{$FEDMSG.AGE.WARN:"zq"}`: "10", `{$FEDMSG.WAIT.WARN:"zq"}`: "10", `{$FEDMSG.WAIT.CRIT:"zq"}`: "15"}
	z, hostid := zabbixTestHost(t, "trig", macros)
	agentTpl, groupID := sharedZ.agentTpl, sharedZ.group
	listen := "127.0.0.1:" + freePortForCheck(t)
	agentID := agentHost(t, z, "trigagent", startAgent(t, z, "trigagent", ""), listen, agentTpl, groupID, macros, nil)
	hosts := map[string]string{"trig": hostid, "trigagent": agentID}
	conn, mgmt := sharedRabbitMQ(t)
	ch, _ := conn.Channel()
	for _, q := range []string{"zq", "zq_skip"} {
		if _, err := ch.QueueDeclare(q, false, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out testhub.Buffer
	done := make(chan int, 2)
	source := []string{"zabbix", "--socket-dir=", "--rabbitmq", "zab=http://guest:guest@" + mgmt, "--rabbitmq-vhost", "/",
		"--rabbitmq-queues", "^zq(_skip)?$", "--rabbitmq-interval", "5s", "--interval", "1s"}
	// The pushed values of an item that has not changed, every 5 s: under
	// the periods of 20 s (a minute by default, under 5m).
	for _, to := range [][]string{{"--zabbix-server", z.trapper, "--zabbix-host", "trig", "--zabbix-heartbeat", "5s"}, {"--zabbix-listen", listen}} {
		go func() { done <- run(ctx, append(slices.Clone(source), to...), &out, &out) }()
	}
	stopPublishing := publishEvery(ctx, ch, "zq", 500*time.Millisecond)
	onBoth := func(ws []string) []string {
		var out []string
		for _, w := range ws {
			out = append(out, "trig: zab-default "+w, "trigagent: zab-default "+w)
		}
		return out
	}
	want := onBoth([]string{"zq: the backlog has grown for 20s", "zq: messages wait and no consumer has been attached for 20s",
		"zq: over 5 messages wait", "zq: over 8 messages wait"})
	eventuallyEvery(t, 180*time.Second, zabbixPoll, "the growth, no-consumer and count triggers in PROBLEM", func() (bool, string) {
		p := z.problems(t, hosts)
		for _, w := range want {
			if !strings.Contains(p, w) {
				return false, p + "\n" + out.String()
			}
		}
		return true, ""
	})
	for name, id := range hosts {
		items := func(queue string) int {
			var is []struct{ Itemid string }
			z.must(t, "item.get", map[string]any{"hostids": id, "search": map[string]any{"key_": `"` + queue + `"]`}}, &is)
			return len(is)
		}
		if n, skipped := items("zq"), items("zq_skip"); n == 0 || skipped != 0 {
			t.Errorf("%s: items of zq %d, of zq_skip (left out by the LLD filter) %d", name, n, skipped)
		}
	}
	stopPublishing()
	drain := func() *amqp.Channel {
		c, _ := conn.Channel()
		deliveries, err := c.Consume("zq", "", true, false, false, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for range deliveries {
			}
		}()
		return c
	}
	cleared := func(what string, want []string) {
		t.Helper()
		eventuallyEvery(t, 120*time.Second, zabbixPoll, what, func() (bool, string) {
			p := z.problems(t, hosts)
			for _, w := range want {
				if strings.Contains(p, w) {
					return false, p
				}
			}
			return true, ""
		})
	}
	drainer := drain()
	cleared("all three back to OK", want)

	// A consumer that takes a message and never acknowledges it (prefetch
	// 1) while messages keep coming: the stall, the oldest message's age
	// and the expected wait pass their macros; another consumer then
	// empties the queue, and they are OK again.
	drainer.Close()
	hung, _ := conn.Channel()
	hung.Qos(1, 0, false)
	held, err := hung.Consume("zq", "hung", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for range held { // taken, never acknowledged
		}
	}()
	stopPublishing = publishEvery(ctx, ch, "zq", 500*time.Millisecond)
	stallWant := onBoth([]string{"zq: consumers attached take nothing while messages wait", "zq: the oldest message has waited over 10 s",
		"zq: a message arriving now waits over 10 s", "zq: a message arriving now waits over 15 s"})
	eventuallyEvery(t, 120*time.Second, zabbixPoll, "the stall, oldest-age and wait triggers in PROBLEM", func() (bool, string) {
		p := z.problems(t, hosts)
		for _, w := range stallWant {
			if !strings.Contains(p, w) {
				return false, p
			}
		}
		return true, ""
	})
	stopPublishing()
	hung.Close() // its message goes back to the queue
	drain()
	cleared("the stall, oldest-age and wait triggers back to OK", stallWant)
	cancel()
	<-done
	<-done
}

// publishEvery publishes a message to queue every period until the
// function it returns is called, which returns once it stopped.
func publishEvery(ctx context.Context, ch *amqp.Channel, queue string, period time.Duration) func() {
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(period) // pacing the publisher
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				ch.PublishWithContext(ctx, "", queue, false, false, amqp.Publishing{Body: []byte("m")})
			}
		}
	}()
	return func() { close(stop); <-stopped }
}
