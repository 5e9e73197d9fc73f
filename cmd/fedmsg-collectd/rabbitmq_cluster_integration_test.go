package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// TestRabbitMQClusterIntegration: two nodes of one cluster on loopback,
// read through both Prometheus listeners. Queue alpha lives on node A,
// beta on node B, gamma is a quorum queue led by A with a member on B;
// each gets messages from publishers on both nodes and loses some to
// basic.gets on the other node. Each queue is reported once per
// snapshot, with its node's lengths, and its counts in and out add up
// to what the test published and got, across nodes and channels.
func TestRabbitMQClusterIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	a, err := launchRabbitMQWith(t.TempDir(), rabbitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.stop()
	b, err := launchRabbitMQWith(t.TempDir(), rabbitOptions{join: a})
	if err != nil {
		t.Fatal(err)
	}
	defer b.stop()
	eventually(t, 60*time.Second, "a cluster of two running nodes", func() (bool, string) {
		resp, err := http.Get("http://guest:guest@" + a.mgmt + "/api/nodes?columns=name,running")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		var nodes []struct{ Running bool }
		json.NewDecoder(resp.Body).Decode(&nodes)
		running := 0
		for _, n := range nodes {
			if n.Running {
				running++
			}
		}
		return running == 2, fmt.Sprintf("%d of %d nodes running", running, len(nodes))
	})
	connA, _ := dialRabbitMQ(t, a)
	connB, _ := dialRabbitMQ(t, b)
	chA, _ := connA.Channel()
	chB, _ := connB.Channel()
	// Classic queues live on the node of the connection declaring them.
	for _, d := range []struct {
		ch   *amqp.Channel
		name string
		args amqp.Table
	}{{chA, "alpha", nil}, {chB, "beta", nil}, {chA, "gamma", amqp.Table{"x-queue-type": "quorum"}}} {
		if _, err := d.ch.QueueDeclare(d.name, true, false, false, false, d.args); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errs testhub.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--socket-dir=", "--rabbitmq-prometheus", "http://" + a.prom, "--rabbitmq-prometheus", "http://" + b.prom,
			"--rabbitmq-interval", "5s", "--interval", "1s", "--hostname", "h"}, &out, &errs)
	}()
	const id = "h/fedmsg_rabbitmq-default/"
	eventually(t, 30*time.Second, "snapshots of the three queues", func() (bool, string) {
		s := out.String()
		return strings.Contains(s, id+"queue_length-alpha_backlog") && strings.Contains(s, id+"queue_length-beta_backlog") &&
			strings.Contains(s, id+"queue_length-gamma_backlog"), errs.String()
	})
	// From publishers on both nodes; gets on the other node than the
	// queue's.
	want := map[string][2]int{"alpha": {300, 200}, "beta": {300, 120}, "gamma": {300, 40}}
	for _, ch := range []*amqp.Channel{chA, chB} {
		for i := range 150 {
			for _, q := range []string{"alpha", "beta", "gamma"} {
				if err := ch.PublishWithContext(ctx, "", q, false, false, amqp.Publishing{Body: []byte(fmt.Sprint(i))}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for q, ch := range map[string]*amqp.Channel{"alpha": chB, "beta": chA, "gamma": chB} {
		for got := 0; got < want[q][1]; {
			m, ok, err := ch.Get(q, false)
			switch {
			case err != nil:
				t.Fatal(err)
			case ok:
				m.Ack(false)
				got++
			}
		}
	}
	sum := func(ident string) float64 {
		_, v := putvals(out.String(), ident)
		n := 0.0
		for _, x := range v {
			n += x
		}
		return n
	}
	eventually(t, 40*time.Second, "the counts in and out of every queue, and its backlog", func() (bool, string) {
		var off []string
		for q, w := range want {
			in, outs := sum(id+"gauge-"+q+"_in"), sum(id+"gauge-"+q+"_out")
			backlog, _ := lastPutval(out.String(), id+"queue_length-"+q+"_backlog")
			if in != float64(w[0]) || outs != float64(w[1]) || backlog != float64(w[0]-w[1]) {
				off = append(off, fmt.Sprintf("%s: in %v out %v backlog %v, want %d %d %d", q, in, outs, backlog, w[0], w[1], w[0]-w[1]))
			}
		}
		return len(off) == 0, strings.Join(off, "; ")
	})
	cancel()
	<-done
	// Each queue once per snapshot.
	s := out.String()
	for q := range want {
		at, _ := putvals(s, id+"queue_length-"+q+"_backlog")
		seen := map[float64]int{}
		for _, x := range at {
			if seen[x]++; seen[x] > 1 {
				t.Errorf("%s reported twice in the snapshot at %v", q, x)
			}
		}
	}
	if m := regexp.MustCompile(`(?m)^.*level=(WARN|ERROR).*$`).FindAllString(errs.String(), -1); len(m) > 0 {
		t.Errorf("stderr: %s", strings.Join(m, "\n"))
	}
}
