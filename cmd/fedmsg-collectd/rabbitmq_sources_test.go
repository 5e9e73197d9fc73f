package main

import (
	"context"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// bothSources is the plugin run twice on the shared broker, polling it
// every 5 s: through its management API and through its Prometheus
// listener, side by side.
type bothSources struct {
	out, errs   testhub.Buffer // the management API's run
	pout, perrs testhub.Buffer // the Prometheus listener's
	done        chan int
}

// runBothSources starts both runs until ctx ends.
func runBothSources(ctx context.Context, mgmt string) *bothSources {
	b := &bothSources{done: make(chan int, 2)}
	go func() {
		b.done <- run(ctx, []string{"--socket-dir=", "--rabbitmq", "http://guest:guest@" + mgmt, "--rabbitmq-interval", "5s",
			"--interval", "1s", "--hostname", "h"}, &b.out, &b.errs)
	}()
	go func() {
		b.done <- run(ctx, []string{"--socket-dir=", "--rabbitmq-prometheus", "http://" + shared.b.prom, "--rabbitmq-interval", "5s",
			"--interval", "1s", "--hostname", "h"}, &b.pout, &b.perrs)
	}()
	return b
}

// wait waits for both runs to end.
func (b *bothSources) wait() { <-b.done; <-b.done }
