package check

import (
	"context"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/pipeline"
)

// ProbePolled checks a polled source (a broker) through the pipeline, as
// run reads it, once it has the snapshots spec needs of its first service,
// one more than a hub's (the first only gives the counters a base).
func ProbePolled(ctx context.Context, src pipeline.Source, endpoint string, timeout time.Duration, spec Spec) Result {
	need := spec.Snapshots() + 1
	return Run(ctx, src, "", need, timeout, spec, func(got int, why string) Result {
		return Fail("%d of the %d polls with fresh statistics needed from %s within %s%s", got, need, endpoint, timeout, why)
	})
}
