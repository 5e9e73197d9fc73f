package promexp

import "github.com/fedora-infra/fedmsg-collectd/internal/report"

// counts is a consumer's processing-time histogram, added up (its other
// counters are the Delta kinds' report.Totals). Never changed once made:
// add returns a new one.
//
// Only the buckets from the lowest to the highest that counted a time are
// kept (own[j] is the count of bucket lo+j alone, not cumulative): a
// consumer's times fill a few of the report.NumBounds buckets, and 5,000
// consumers' full arrays, kept for scrapes, were 8 MB of the exporter's
// 22 MB heap at 100 hubs.
type counts struct {
	sum   float64
	n     uint64
	lo    int
	own   []uint64
	times bool // the hub lists processing times
	// mine says own was made by add for a state not yet published, so
	// add may change it in place.
	mine bool
}

// add returns c with n more times in the bucket of bound b (its count n
// is added apart, from the hub's count of times).
func (c counts) add(b int, n uint64) counts {
	if b < 0 || b >= report.NumBounds || n == 0 {
		return c
	}
	lo, hi := c.lo, c.lo+len(c.own)
	if c.mine && b >= lo && b-lo < cap(c.own) {
		// Within what this state's own storage holds: past its length
		// the storage is still zero (it only ever grows).
		c.own = c.own[:max(len(c.own), b-lo+1)]
		c.own[b-lo] += n
		return c
	}
	switch {
	case len(c.own) == 0:
		lo, hi = b, b+1
	case b < lo:
		lo = b
	case b >= hi:
		hi = b + 1
	}
	// Room for a few buckets more: a hub lists a consumer's times
	// lowest first, so its next buckets come above.
	own := make([]uint64, hi-lo, hi-lo+4)
	if len(c.own) > 0 {
		copy(own[c.lo-lo:], c.own)
	}
	own[b-lo] += n
	c.lo, c.own, c.mine = lo, own, true
	return c
}

// bucket returns the count of bucket i alone; i = report.NumBounds is the
// one above the last bound.
func (c *counts) bucket(i int) uint64 {
	if i == report.NumBounds {
		var in uint64
		for _, v := range c.own {
			in += v
		}
		return c.n - min(in, c.n)
	}
	if i < c.lo || i >= c.lo+len(c.own) {
		return 0
	}
	return c.own[i-c.lo]
}

// cumulative calls f with each exposed bound's index and its cumulative
// count, in order. A bucket is exposed only when it, or the bucket above
// it, counted a time: every bound of a bucket with times is there, so
// histogram_quantile interpolates over the same bounds as with all of
// them, and a consumer whose times fill a few buckets does not cost a
// series for every bound of TimeBounds.
func (c *counts) cumulative(f func(i int, cum uint64)) {
	var cum uint64
	for i := 0; i < report.NumBounds; i++ {
		own := c.bucket(i)
		cum += own
		if own > 0 || c.bucket(i+1) > 0 {
			f(i, cum)
		}
	}
}
