package check

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
)

// Usage is the head of the check command's help, before its flags.
const Usage = `Usage: fedmsg-collectd check --endpoint E [--timeout 20s] [checks]
       fedmsg-collectd check --rabbitmq URL --queue Q [checks]
       fedmsg-collectd check --rabbitmq-prometheus URL... --queue Q [checks]
       fedmsg-collectd check --counters URL [checks]

A Nagios / Icinga plugin: reads one snapshot from the hub (two successive
ones for --wait-*, --drain-* and --age-*), waiting at most --timeout (9s: under
check_nrpe's 10 s), and checks it. Two snapshots of a hub take up to 10 s:
give --timeout 15s and check_nrpe -t 20. A broker is polled every second;
a snapshot is formed per refresh of its statistics (every 5 s), as run
forms them; a 401, 403, refused connection or TLS error is UNKNOWN at once.
Stage counters are polled every second (unless --counters-interval says).
The sources' flags are run's, with two defaults of the check's own: one
vhost, --rabbitmq-vhost / (a queue's name is unique only in its vhost),
and a poll a second.
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
message arriving now waits more than five minutes for a worker,
--age-critical 600 when the oldest message waiting has waited ten. A stall
(messages waiting, consumers attached, none taken) is at least WARNING.
Between runs, the check keeps the snapshots it took in --state-dir, so
that the next run knows what two snapshots 5 s apart cannot.

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

// Flags are the check's own flags: what to check and within how long. The
// sources it reads are chosen with run's flags.
type Flags struct {
	Timeout time.Duration
	// StateDir is where the check keeps its history between runs; ""
	// keeps none.
	StateDir             string
	spec                 Spec
	consumers, producers cli.Strings
	missing              string
}

// Register registers the check's own flags on fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.Var(&f.consumers, "queue", "`NAME` of a broker's queue to check, repeatable (as --consumer)")
	fs.DurationVar(&f.Timeout, "timeout", DefaultTimeout, "UNKNOWN if the snapshots needed do not arrive within this: the default\nfinishes under check_nrpe's 10 s; for longer, raise both (check_nrpe -t)")
	fs.Var(&f.consumers, "consumer", "`NAME` of a consumer to check, repeatable; * for every consumer")
	fs.Var(&f.producers, "producer", "`NAME` of a producer to check, repeatable")
	for _, t := range []struct {
		name, what string
		th         *Thresholds
	}{
		{"backlog", "backlog of the checked consumers (messages)", &f.spec.Backlog},
		{"exceptions", "exceptions of the checked consumers since the previous publish", &f.spec.Exceptions},
		{"p95", "95th percentile of their processing times (ms)", &f.spec.P95},
		{"last-ran", "seconds since the checked producers last ran", &f.spec.LastRan},
		{"producer-exceptions", "consecutive failed polls of the checked producers (a failed\npoll stops a moksha producer for good)", &f.spec.ProducerExceptions},
		{"wait", "expected wait of a message arriving now at the checked consumers (seconds;\nreads two snapshots)", &f.spec.Wait},
		{"drain", "time until the checked consumers' backlogs are empty (seconds; a growing\nbacklog never drains; reads two snapshots)", &f.spec.Drain},
		{"consumers", "consumers attached to the checked queues of a broker (default\ncritical 1: below one consumer)", &f.spec.Workers},
		{"age", "age of the oldest message waiting at the checked consumers (seconds;\nreads two snapshots, and the history kept in --state-dir)", &f.spec.Age},
	} {
		fs.Var(RangeValue{R: &t.th.Warn}, t.name+"-warning", "`RANGE` of the "+t.what+" that is WARNING")
		fs.Var(RangeValue{R: &t.th.Crit}, t.name+"-critical", "`RANGE` of the "+t.what+" that is CRITICAL")
	}
	fs.StringVar(&f.StateDir, "state-dir", DefaultStateDir(), "`DIR` of the user's own (mode 0700, made if missing) where the check keeps,\nper target, the snapshots it took and a broker's counts, so that the next run\nknows the oldest message's age, a stall's length and the consumers' speed;\nempty: none kept")
	fs.StringVar(&f.missing, "missing", "unknown", "state of a named consumer or producer the hub does not list: unknown or critical")
}

// Spec is what the flags ask to check, or why they do not make sense;
// call it after parsing. broker is true when the source is a broker,
// whose queues must have a consumer unless --consumers-* say otherwise.
func (f *Flags) Spec(broker bool) (Spec, error) {
	spec := f.spec
	if f.Timeout <= 0 {
		return spec, errors.New("--timeout must be positive")
	}
	if broker && !spec.Workers.Set() {
		spec.Workers.Crit, _ = ParseRange("1:") // alert below 1
	}
	switch f.missing {
	case "unknown":
		spec.Missing = Unknown
	case "critical":
		spec.Missing = Critical
	default:
		return spec, fmt.Errorf("--missing %q: want unknown or critical", f.missing)
	}
	spec.Consumers, spec.Producers = f.consumers, f.producers
	if len(f.consumers) == 0 && len(f.producers) == 0 {
		spec.Consumers = []string{All}
	}
	if (spec.LastRan.Set() || spec.ProducerExceptions.Set()) && len(f.producers) == 0 {
		return spec, errors.New("--last-ran-* and --producer-exceptions-* need --producer")
	}
	return spec, nil
}

// Failed writes a check that could not start (a bad command line) as the
// plugin output monitoring systems read, and returns its state, UNKNOWN.
func Failed(stdout io.Writer, err error) Status {
	fmt.Fprintf(stdout, "FEDMSG UNKNOWN - %s (see fedmsg-collectd check -h)\n", cli.Redact(err.Error()))
	return Unknown
}
