package check

import (
	"context"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/pipeline"
)

// ProbePolled checks a polled source (a broker) through the pipeline, as
// run reads it, once it has the snapshots spec needs of its first service.
// A poll that failed in a way polling again will not cure (refused, 401,
// 403, a TLS error) is UNKNOWN at once, with why.
func ProbePolled(ctx context.Context, src pipeline.Source, endpoint string, timeout time.Duration, spec Spec) Result {
	need := spec.Snapshots()
	return Run(ctx, src, "", need, timeout, spec, func(got int, why string) Result {
		return Fail("%d of the %d polls with fresh statistics needed from %s within %s%s", got, need, endpoint, timeout, why)
	})
}

// hopeless is why src's latest poll failed for good, if it did and says.
func hopeless(src pipeline.Source) string {
	if h, ok := src.(interface{ Hopeless() string }); ok {
		return h.Hopeless()
	}
	return ""
}
