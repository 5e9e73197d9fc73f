package check

import (
	"context"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/pipeline"
)

// Target is what a check reads: a source built as run builds it, and what
// the check's messages call it.
type Target struct {
	Source pipeline.Source
	// Service is the service checked; empty: the first that sends a
	// snapshot.
	Service string
	// Endpoint is the address the messages name.
	Endpoint string
	// Polled is true of a source that polls (a broker, stage counters),
	// false of a hub, which publishes every 5 s.
	Polled bool
}

// Probe checks t's service through the pipeline, as run reads it, once
// it has the snapshots spec needs; it never takes much longer than
// timeout. A source that can tell at once why it cannot be read (no
// socket, permission denied, refused, 401, 403, a TLS error) is UNKNOWN
// at once, with why.
func Probe(ctx context.Context, t Target, timeout time.Duration, spec Spec) Result {
	return ProbeWith(ctx, t, timeout, spec, nil)
}

// ProbeWith is Probe with a history of the runs before (nil: none).
func ProbeWith(ctx context.Context, t Target, timeout time.Duration, spec Spec, hist *History) Result {
	lost := func(why string) Result {
		if t.Polled {
			return Fail("cannot poll %s: %s", endpointOf(t.Source, ""), why)
		}
		return Fail("%s", why) // a hub's reasons name it
	}
	if h := hopeless(t.Source); h != "" {
		return lost(h)
	}
	need := spec.Snapshots()
	return Run(ctx, t.Source, t.Service, need, timeout, spec, hist, func(got int, why string) Result {
		switch {
		case t.Polled:
			return Fail("%d of the %d polls with fresh statistics needed from %s within %s%s", got, need, t.Endpoint, timeout, why)
		case need > 1:
			// A hub publishes every 5 s: two snapshots take up to 10 s.
			return Fail("%d of the %d successive snapshots needed from %s within %s%s (a hub publishes every 5 s: "+
				"for --wait-* and --drain-* give --timeout 15s, and check_nrpe -t 20)", got, need, t.Endpoint, timeout, why)
		}
		return Fail("no snapshot from %s within %s%s", t.Endpoint, timeout, why)
	}, lost)
}
