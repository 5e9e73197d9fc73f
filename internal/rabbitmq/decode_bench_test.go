package rabbitmq

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkDecode: the API's answer for 10000 queues with the columns
// asked for, decoded a queue at a time.
func BenchmarkDecode(b *testing.B) {
	var body bytes.Buffer
	body.WriteByte('[')
	for i := range 10000 {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"consumers":1,"message_stats":{"deliver_get":%d,"publish":%d},"messages_ready":%d,"messages_unacknowledged":1,"name":"fedora.queue.%05d","vhost":"/pubsub"}`, 9*i, 10*i, i, i)
	}
	body.WriteByte(']')
	b.SetBytes(int64(body.Len()))
	b.ReportAllocs()
	for b.Loop() {
		a, err := decode(bytes.NewReader(body.Bytes()), DefaultMaxQueues, nil)
		if err != nil || len(a.queues) != 10000 {
			b.Fatal(err, len(a.queues))
		}
	}
}

// exposition3 is a 3.x node's answer for n queues, each with a channel
// publishing to it and one consuming from it.
func exposition3(n int) []byte {
	var b bytes.Buffer
	family := func(name, typ string, line func(i int) string) {
		fmt.Fprintf(&b, "# TYPE %s %s\n# HELP %s Help.\n", name, typ, name)
		for i := range n {
			b.WriteString(line(i))
		}
	}
	q := func(i int) string { return fmt.Sprintf(`vhost="/",queue="queue.%05d"`, i) }
	for _, m := range []string{"messages_ready", "messages_unacked", "messages", "process_reductions_total", "consumers"} {
		family("rabbitmq_detailed_queue_"+m, "gauge", func(i int) string {
			return fmt.Sprintf("rabbitmq_detailed_queue_%s{%s} %d\n", m, q(i), 1000+i)
		})
	}
	for _, m := range []string{"get_ack_total", "get_total", "messages_delivered_ack_total", "messages_delivered_total", "messages_redelivered_total", "messages_acked_total", "get_empty_total"} {
		family("rabbitmq_detailed_channel_"+m, "counter", func(i int) string {
			return fmt.Sprintf("rabbitmq_detailed_channel_%s{channel=\"<0.%d.0>\",%s} %d\n", m, 900+i, q(i), 5000+i)
		})
	}
	family("rabbitmq_detailed_queue_messages_published_total", "counter", func(i int) string {
		return fmt.Sprintf("rabbitmq_detailed_queue_messages_published_total{channel=\"<0.826.0>\",queue_vhost=\"/\",queue=\"queue.%05d\",exchange_vhost=\"/\",exchange=\"\"} %d\n", i, 9000+i)
	})
	b.WriteString("rabbitmq_build_info{rabbitmq_version=\"3.10.8\"} 1\n")
	return b.Bytes()
}

// BenchmarkExposition decodes a 3.x node's answer for 10000 queues.
func BenchmarkExposition(b *testing.B) {
	body := exposition3(10000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		e, err := decodeExposition(bytes.NewReader(body), 10000*maxLinesPerQueue, nil)
		if err != nil || len(e.queues) != 10000 {
			b.Fatal(err, len(e.queues))
		}
	}
}
