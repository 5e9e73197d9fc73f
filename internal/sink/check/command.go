package check

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/hubmon"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/rabbitmq"
)

const usage = `Usage: fedmsg-collectd check --endpoint E [--timeout 20s] [checks]
       fedmsg-collectd check --rabbitmq URL --queue Q [checks]
       fedmsg-collectd check --rabbitmq-prometheus URL... --queue Q [checks]

A Nagios / Icinga plugin: reads one snapshot from the hub (two successive
ones for --wait-* and --drain-*), waiting at most --timeout (9s: under
check_nrpe's 10 s), and checks it. Two snapshots of a hub take up to 10 s:
give --timeout 15s and check_nrpe -t 20. A broker is polled every second;
a snapshot is formed per refresh of its statistics (every 5 s), as run
forms them; a 401, 403, refused connection or TLS error is UNKNOWN at once.
Exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN
(timeout, missing socket, permission denied, malformed snapshot, a named
consumer or producer not found, a bad command line).

Every consumer named with --consumer and producer named with --producer must
be present and initialized (CRITICAL if not). Their values are checked
against the ranges given; without --consumer or --producer, every consumer
is. Ranges: 10 (alert above 10 or below 0), 10: (below 10), ~:10 (above 10),
10:20 (outside), @10:20 (inside); decimals allowed.

Operators alert on how long messages wait rather than on backlog counts,
which mean different things per consumer: --wait-warning 300 warns when a
message arriving now waits more than five minutes for a worker.

Examples (the old Fedora checks, then waits):
  check --endpoint ipc:///var/run/fedmsg/monitoring-fedmsg-hub.socket \
    --consumer FMNConsumer --backlog-warning 15000 --backlog-critical 20000
  check --endpoint ... --consumer FMNConsumer --exceptions-warning 1 --exceptions-critical 10
  check --endpoint ... --producer DigestProducer --last-ran-warning 90 --last-ran-critical 600 \
    --producer-exceptions-critical 0
  check --endpoint ... --wait-warning 300 --wait-critical 1800 --drain-critical 3600
  check --rabbitmq http://127.0.0.1:15672 --rabbitmq-auth-file FILE --rabbitmq-vhost /pubsub \
    --queue fmn --wait-warning 300   (a queue with no consumer is CRITICAL)

Flags:
`

// DefaultTimeout is how long a check waits for its snapshots by default:
// under check_nrpe's default of 10 s, so that its answer, not NRPE's
// "socket timeout", is what Nagios shows.
const DefaultTimeout = 9 * time.Second

// command is the command line of
type command struct {
	endpoint model.Endpoint
	timeout  time.Duration
	spec     Spec
	broker   *rabbitmq.Source // instead of a hub: a broker's queues
}

// parse reads the command line; asked for help, it prints the usage to
// out and returns flag.ErrHelp.
func parse(args []string, out io.Writer) (command, error) {
	fs := flag.NewFlagSet("fedmsg-collectd check", flag.ContinueOnError)
	// A monitoring system reads the first line: errors come back as the
	// UNKNOWN status line, and only -h prints the usage.
	fs.SetOutput(io.Discard)
	var (
		c                    command
		endpoint, missing    string
		consumers, producers cli.Strings
	)
	fs.StringVar(&endpoint, "endpoint", "", "hub monitoring socket, `[SERVICE=]ENDPOINT` (this or --rabbitmq is required)")
	var b rabbitmq.Config
	fs.Func("rabbitmq", "check the queues of a RabbitMQ broker instead: its management API `URL`", func(s string) error {
		b.URLs = append(b.URLs, s)
		return nil
	})
	fs.Func("rabbitmq-prometheus", "or read its nodes' Prometheus listeners: `URL` of one, repeatable for\nevery node of a cluster", func(s string) error {
		b.PromURLs = append(b.PromURLs, s)
		return nil
	})
	fs.StringVar(&b.AuthFile, "rabbitmq-auth-file", "", "`FILE` whose first line is USER:PASSWORD for the management API")
	fs.StringVar(&b.CAFile, "rabbitmq-ca-file", "", "trust the CA certificates in `FILE` for https")
	vhost := fs.String("rabbitmq-vhost", "/", "the `VHOST` of the queues (one: a queue's name is unique only in its vhost)")
	fs.Var(&consumers, "queue", "`NAME` of a broker's queue to check, repeatable (as --consumer)")
	fs.DurationVar(&c.timeout, "timeout", DefaultTimeout, "UNKNOWN if the snapshots needed do not arrive within this: the default\nfinishes under check_nrpe's 10 s; for longer, raise both (check_nrpe -t)")
	fs.Var(&consumers, "consumer", "`NAME` of a consumer to check, repeatable; * for every consumer")
	fs.Var(&producers, "producer", "`NAME` of a producer to check, repeatable")
	for _, t := range []struct {
		name, what string
		th         *Thresholds
	}{
		{"backlog", "backlog of the checked consumers (messages)", &c.spec.Backlog},
		{"exceptions", "exceptions of the checked consumers since the previous publish", &c.spec.Exceptions},
		{"p95", "95th percentile of their processing times (ms)", &c.spec.P95},
		{"last-ran", "seconds since the checked producers last ran", &c.spec.LastRan},
		{"producer-exceptions", "consecutive failed polls of the checked producers (a failed\npoll stops a moksha producer for good)", &c.spec.ProducerExceptions},
		{"wait", "expected wait of a message arriving now at the checked consumers (seconds;\nreads two snapshots)", &c.spec.Wait},
		{"drain", "time until the checked consumers' backlogs are empty (seconds; a growing\nbacklog never drains; reads two snapshots)", &c.spec.Drain},
		{"consumers", "consumers attached to the checked queues of a broker (default\ncritical 1: below one consumer)", &c.spec.Workers},
	} {
		fs.Var(RangeValue{R: &t.th.Warn}, t.name+"-warning", "`RANGE` of the "+t.what+" that is WARNING")
		fs.Var(RangeValue{R: &t.th.Crit}, t.name+"-critical", "`RANGE` of the "+t.what+" that is CRITICAL")
	}
	fs.StringVar(&missing, "missing", "unknown", "state of a named consumer or producer the hub does not list: unknown or critical")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(out, usage)
			fs.SetOutput(out)
			fs.PrintDefaults()
		}
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case endpoint == "" && len(b.URLs)+len(b.PromURLs) == 0:
		return c, errors.New("--endpoint, --rabbitmq or --rabbitmq-prometheus is required")
	case endpoint != "" && len(b.URLs)+len(b.PromURLs) > 0, len(b.URLs) > 1, len(b.URLs) > 0 && len(b.PromURLs) > 0:
		return c, errors.New("one --endpoint, one --rabbitmq, or the --rabbitmq-prometheus nodes of one cluster")
	case c.timeout <= 0:
		return c, errors.New("--timeout must be positive")
	}
	var err error
	if len(b.URLs)+len(b.PromURLs) > 0 {
		b.VHost, b.Interval = *vhost, time.Second
		srcs, err := b.Sources(nil)
		if err != nil {
			return c, err
		}
		// Polled every second, each poll given up to 4 s: a snapshot per
		// broker refresh (every 5 s), as run forms them.
		c.broker = srcs[0]
		c.broker.Timeout = min(4*time.Second, c.timeout/2)
		if !c.spec.Workers.Set() {
			c.spec.Workers.Crit, _ = ParseRange("1:") // alert below 1
		}
	} else {
		var hubs hubmon.Flags
		if err = hubs.AddEndpoint(endpoint); err != nil {
			return c, err
		}
		c.endpoint = hubs.Endpoints[0]
	}
	switch missing {
	case "unknown":
		c.spec.Missing = Unknown
	case "critical":
		c.spec.Missing = Critical
	default:
		return c, fmt.Errorf("--missing %q: want unknown or critical", missing)
	}
	c.spec.Consumers, c.spec.Producers = consumers, producers
	if len(consumers) == 0 && len(producers) == 0 {
		c.spec.Consumers = []string{All}
	}
	if (c.spec.LastRan.Set() || c.spec.ProducerExceptions.Set()) && len(producers) == 0 {
		return c, errors.New("--last-ran-* and --producer-exceptions-* need --producer")
	}
	return c, nil
}

// Command is the check command, a monitoring plugin: it parses args,
// checks and writes the result to stdout, and returns the state, whose
// value is the exit code.
func Command(ctx context.Context, args []string, stdout io.Writer) Status {
	c, err := parse(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return OK
	}
	if err != nil {
		fmt.Fprintf(stdout, "FEDMSG UNKNOWN - %v (see fedmsg-collectd check -h)\n", err)
		return Unknown
	}
	var res Result
	if c.broker != nil {
		res = ProbePolled(ctx, c.broker, c.broker.Endpoint(), c.timeout, c.spec)
	} else {
		res = Probe(ctx, c.endpoint, c.timeout, c.spec)
	}
	res.Write(stdout)
	return res.Status
}
