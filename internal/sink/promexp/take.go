package promexp

import (
	"math"
	"slices"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// takeUp returns the state of a hub after an interval's word on whether
// it is up, from its state prev (nil for a hub not seen before).
func takeUp(prev *hubState, service string, up float64) *hubState {
	next := &hubState{label: label("service", service)}
	if prev != nil {
		*next = *prev // shared slices: never changed once made
	}
	next.up = up
	if up == 0 {
		// Lost: its last values are not current. Only hub_up (and the
		// snapshot's age) stays; the counters go on from where they
		// were when it is back.
		next.series = [numFamilies][]sample{}
		next.hists = nil
		next.gz, next.packed = [numFamilies]segment{}, true
	}
	return next
}

// takeHub returns the state of a hub after its snapshot's batch b, from
// its state prev (nil for a hub not seen before): b replaces its values
// and adds to its counters. The samples are gathered in build, storage
// kept from one call to the next, and handed out in one array of their
// exact length: append's spare room, kept with every hub's state, was a
// third of the exporter's heap at 100 hubs.
func takeHub(prev *hubState, b report.Batch, build *[numFamilies][]sample) *hubState {
	next := &hubState{up: math.NaN(), label: label("service", b.Service)}
	if prev != nil {
		*next = *prev // shared slices: never changed once made
	}
	next.at = b.Time
	next.gz, next.packed = [numFamilies]segment{}, false
	for f := range build {
		build[f] = build[f][:0]
	}
	build[famPeriod] = append(build[famPeriod], sample{-1, b.Interval.Seconds()})
	next.hists = nil
	names := distinct(b.Subjects)
	if prev == nil || !slices.Equal(names, prev.names) {
		// The label strings, made again only when the names change.
		next.names = names
		next.labels = make([]string, len(names))
	}
	labelOf := func(i int, key string) int32 {
		if next.labels[i] == "" {
			next.labels[i] = next.label + "," + label(key, names[i])
		}
		return int32(i)
	}
	old := next.counts
	next.counts = make(map[string]*counts, len(old))
	sums := make(map[int]*counts)
	counted := func(i int) *counts {
		c := sums[i]
		if c == nil {
			c = new(counts)
			if o := old[names[i]]; o != nil {
				*c = *o // its buckets are copied by add before a change
			}
			sums[i] = c
		}
		return c
	}
	for _, v := range b.Values {
		if v.Kind.Scope() != report.Entry {
			if f, ok := familyOf[v.Kind]; ok {
				build[f] = append(build[f], sample{-1, v.V})
			}
			continue
		}
		i := v.Subject
		if i < 0 || i >= len(names) {
			continue
		}
		switch k := v.Kind; {
		case k == report.ProducerExceptions:
			build[famProducerExceptions] = append(build[famProducerExceptions], sample{labelOf(i, "producer"), v.V})
		case k == report.LastRanAge:
			ran := b.Time.Add(-time.Duration(v.V * float64(time.Second)))
			build[famLastRan] = append(build[famLastRan], sample{labelOf(i, "producer"), float64(ran.UnixNano()) / 1e9})
		case k.Info().Type == report.Delta:
			counted(i) // added up by report.Totals
		case k == report.TimeCount:
			c := counted(i)
			c.n += uint64(count(v.V))
			c.times = true
		case k == report.TimeSum:
			counted(i).sum += count(v.V)
		case k >= report.TimeLE0:
			c := counted(i)
			*c = c.add(int(k-report.TimeLE0), uint64(count(v.V)))
		default:
			if f, ok := familyOf[k]; ok {
				counted(i) // a consumer has counters even before it counts
				build[f] = append(build[f], sample{labelOf(i, "consumer"), v.V})
			}
		}
	}
	// The queue types, as an info family.
	next.types = nil
	if len(b.Types) > 0 {
		next.types = make([]string, len(names))
		for i, t := range b.Types {
			if t != "" && i < len(names) {
				next.types[i] = "," + label("type", t)
				build[famQueueInfo] = append(build[famQueueInfo], sample{labelOf(i, "consumer"), 1})
			}
		}
	}
	// The counters, in the consumers' order.
	next.totals = next.totals.Add(b, names)
	if len(sums) > 0 {
		next.hists = make([]hist, 0, len(sums))
	}
	for i := range names {
		c := sums[i]
		if c == nil {
			continue
		}
		c.mine = false // published: add copies it before a change
		next.counts[names[i]] = c
		l := labelOf(i, "consumer")
		for _, f := range counterFamilies {
			build[f] = append(build[f], sample{l, next.totals[names[i]].Of(families[f].kind)})
		}
		if c.times {
			next.hists = append(next.hists, hist{l, c})
		}
	}
	next.series = carve(build)
	return next
}

// carve returns a copy of the samples of build in one array.
func carve(build *[numFamilies][]sample) [numFamilies][]sample {
	n := 0
	for _, ss := range build {
		n += len(ss)
	}
	all := make([]sample, 0, n)
	var out [numFamilies][]sample
	for f, ss := range build {
		if len(ss) > 0 {
			at := len(all)
			all = append(all, ss...)
			out[f] = all[at:len(all):len(all)]
		}
	}
	return out
}

// distinct returns the label values of the subjects: valid UTF-8, and
// made distinct by the one rule of report.Distinct.
func distinct(subjects []string) []string {
	return report.Distinct(subjects, validUTF8, nil)
}
