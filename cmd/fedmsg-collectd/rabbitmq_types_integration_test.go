package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// TestRabbitMQQueueTypesIntegration: a classic queue, a quorum queue and
// a stream on the real broker, read by both sources. Each is reported
// like a classic queue by both, with the lengths the broker tells; the
// management source tells their types: collectd gets a notification
// naming the quorum queue and the stream, the exporter an info series
// per queue labelled with its type.
func TestRabbitMQQueueTypesIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	conn, mgmt := sharedRabbitMQ(t)
	prom := shared.b.prom
	ch, _ := conn.Channel()
	for q, kind := range map[string]string{"types_classic": "classic", "types_quorum": "quorum", "types_stream": "stream"} {
		if _, err := ch.QueueDeclare(q, true, false, false, false, amqp.Table{"x-queue-type": kind}); err != nil {
			t.Fatal(err)
		}
		for i := range 30 {
			ch.PublishWithContext(t.Context(), "", q, false, false, amqp.Publishing{Body: []byte(fmt.Sprint(i))})
		}
	}
	for got := 0; got < 10; {
		m, ok, err := ch.Get("types_quorum", false)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			m.Ack(false)
			got++
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	common := []string{"--socket-dir=", "--rabbitmq", "m=http://guest:guest@" + mgmt, "--rabbitmq-prometheus", "p=http://" + prom,
		"--rabbitmq-queues", "^types_", "--rabbitmq-interval", "2s", "--interval", "1s"}
	var out, errs, expOut, expErr testhub.Buffer
	done := make(chan int, 2)
	go func() { done <- run(ctx, append(common, "--hostname", "h"), &out, &errs) }()
	addr := "127.0.0.1:" + freePortForCheck(t)
	go func() {
		done <- run(ctx, append([]string{"exporter", "--web.listen-address", addr}, common...), &expOut, &expErr)
	}()
	want := map[string]float64{"types_classic": 30, "types_quorum": 20, "types_stream": 30}
	eventually(t, 40*time.Second, "every queue's length from both sources", func() (bool, string) {
		var off []string
		for _, src := range []string{"m", "p"} {
			for q, n := range want {
				if v, ok := lastPutval(out.String(), "h/"+src+"-default/queue_length-"+q+"_backlog"); !ok || v != n {
					off = append(off, fmt.Sprintf("%s %s: %v", src, q, v))
				}
			}
		}
		return len(off) == 0, strings.Join(off, ", ") + errs.String()
	})
	eventually(t, 20*time.Second, "the exporter's queue info", func() (bool, string) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for q, kind := range map[string]string{"types_classic": "classic", "types_quorum": "quorum", "types_stream": "stream"} {
			if !strings.Contains(string(b), `fedmsg_consumer_queue_info{service="m-default",consumer="`+q+`",type="`+kind+`"} 1`) {
				return false, "no info of " + q
			}
		}
		return true, ""
	})
	// The check reads the Prometheus listener as well: the classic queue
	// has no consumer (CRITICAL) and 30 ready (over the warning's 10).
	var co, ce testhub.Buffer
	code := run(ctx, []string{"check", "--state-dir", t.TempDir(), "--rabbitmq-prometheus", "http://" + prom, "--queue", "types_classic", "--backlog-warning", "10"}, &co, &ce)
	if code != 2 || !strings.Contains(co.String(), "types_classic consumers 0") || !strings.Contains(co.String(), "'types_classic_backlog'=30") {
		t.Errorf("check: exit %d, %q %q", code, co.String(), ce.String())
	}
	cancel()
	<-done
	<-done
	// Notified when the types first show, and on each change: a queue
	// appears once the broker has its statistics.
	var notes []string
	for _, l := range strings.Split(out.String(), "\n") {
		if _, m, ok := strings.Cut(l, `plugin="m" plugin_instance="default" type="count" type_instance="consumers" message="`); ok {
			notes = append(notes, m)
		}
	}
	if len(notes) == 0 || notes[len(notes)-1] != `queue types: 1 classic, 1 quorum (types_quorum), 1 stream (types_stream)"` {
		t.Errorf("notifications of the queue types:\n%s", strings.Join(notes, "\n"))
	}
	for i := 1; i < len(notes); i++ {
		if notes[i] == notes[i-1] {
			t.Errorf("notified twice: %s", notes[i])
		}
	}
}
