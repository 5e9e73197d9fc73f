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
// publishing to it and one consuming from it; its values grow by add.
func exposition3(n, add int) []byte {
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
			return fmt.Sprintf("rabbitmq_detailed_queue_%s{%s} %d\n", m, q(i), 1000+i+add)
		})
	}
	for _, m := range []string{"get_ack_total", "get_total", "messages_delivered_ack_total", "messages_delivered_total", "messages_redelivered_total", "messages_acked_total", "get_empty_total"} {
		family("rabbitmq_detailed_channel_"+m, "counter", func(i int) string {
			return fmt.Sprintf("rabbitmq_detailed_channel_%s{channel=\"<0.%d.0>\",%s} %d\n", m, 900+i, q(i), 5000+i+add)
		})
	}
	family("rabbitmq_detailed_queue_messages_published_total", "counter", func(i int) string {
		return fmt.Sprintf("rabbitmq_detailed_queue_messages_published_total{channel=\"<0.826.0>\",queue_vhost=\"/\",queue=\"queue.%05d\",exchange_vhost=\"/\",exchange=\"\"} %d\n", i, 9000+i+add)
	})
	b.WriteString("rabbitmq_build_info{rabbitmq_version=\"3.10.8\"} 1\n")
	return b.Bytes()
}

// BenchmarkExposition decodes a 3.x node's answer for 10000 queues
// (12 MB): first, of a node not heard before (every series parsed by
// expfmt); idle, the same answer again; busy, every value changed.
func BenchmarkExposition(b *testing.B) {
	bodies := [][]byte{exposition3(10000, 0), exposition3(10000, 7)}
	decode := func(b *testing.B, c *seriesCache, body []byte) {
		e, err := decodeExposition(bytes.NewReader(body), 10000*maxLinesPerQueue, nil, c, perChannel, true)
		if err != nil || len(e.queues) != 10000 {
			b.Fatal(err, len(e.queues))
		}
	}
	b.Run("first", func(b *testing.B) {
		b.SetBytes(int64(len(bodies[0])))
		b.ReportAllocs()
		for b.Loop() {
			decode(b, &seriesCache{}, bodies[0])
		}
	})
	for _, tc := range []struct {
		name string
		step int
	}{{"idle", 0}, {"busy", 1}} {
		b.Run(tc.name, func(b *testing.B) {
			c := &seriesCache{}
			decode(b, c, bodies[0])
			b.SetBytes(int64(len(bodies[0])))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i += tc.step
				decode(b, c, bodies[i%2])
			}
		})
	}
}
