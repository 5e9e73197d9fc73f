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
