package putval_test

import (
	"os"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/sink/putval"
)

func ExampleWriter() {
	w := putval.NewWriter(os.Stdout)
	names := putval.Names([]string{"FMNConsumer", `Odd "one"/two`})
	w.Write(putval.Batch{
		Host:     "busgateway01",
		Service:  "fedmsg-hub",
		Time:     time.Unix(1795516100, 250e6),
		Interval: 5 * time.Second,
		Values: []putval.Value{
			{Type: "queue_length", TypeInstance: names[0] + "_backlog", Value: 49},
			{Type: "queue_length", TypeInstance: names[1] + "_backlog", Value: 0},
		},
	})
	// Output:
	// PUTVAL "busgateway01/fedmsg-hub/queue_length-FMNConsumer_backlog" interval=5.000 1795516100.250:49
	// PUTVAL "busgateway01/fedmsg-hub/queue_length-Odd \"one\"_two_backlog" interval=5.000 1795516100.250:0
}
