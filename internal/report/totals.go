package report

import "math"

// deltaKinds are the kinds of the catalogue whose type is Delta, in its
// order: the index of a Sums.
var deltaKinds = func() []Kind {
	var ks []Kind
	for _, k := range Kinds() {
		if k.Info().Type == Delta {
			ks = append(ks, k)
		}
	}
	return ks
}()

// DeltaKinds returns the kinds whose type is Delta: counts since the
// previous snapshot, which a sink that shows counters adds up with Totals.
func DeltaKinds() []Kind { return append([]Kind(nil), deltaKinds...) }

// Sums are one subject's running totals of every Delta kind.
type Sums []float64

// Of returns the total of kind k (0 for a kind whose type is not Delta).
func (s Sums) Of(k Kind) float64 {
	for i, d := range deltaKinds {
		if d == k && i < len(s) {
			return s[i]
		}
	}
	return 0
}

// Totals are the running totals of every Delta kind, by the name a sink
// gives a subject: the one helper behind every sink's counters
// (Prometheus's counters, Netdata's incremental dimensions), so that a new
// Delta kind needs a name in each sink's table and nothing else.
type Totals map[string]Sums

// Add returns the totals after the snapshot's batch b, whose subjects the
// sink names names (its distinct names of b.Subjects, index for index):
// the previous totals of the subjects b lists, with b's Delta values of
// Entry scope added (a negative, infinite or NaN value adds nothing);
// subjects b does not list are left out. t is not changed, and what Add
// does not change it shares with t, so a reader may keep t while the next
// is made.
func (t Totals) Add(b Batch, names []string) Totals {
	next := make(Totals, len(names))
	for _, n := range names {
		if s, ok := t[n]; ok {
			next[n] = s
		}
	}
	var own map[string]bool // the sums already copied for this batch
	for _, v := range b.Values {
		i := v.Subject
		if v.Kind.Info().Type != Delta || v.Kind.Scope() != Entry || i < 0 || i >= len(names) {
			continue
		}
		name := names[i]
		if !own[name] {
			if own == nil {
				own = make(map[string]bool)
			}
			s := make(Sums, len(deltaKinds))
			copy(s, next[name])
			next[name], own[name] = s, true
		}
		if v.V < 0 || math.IsInf(v.V, 0) || math.IsNaN(v.V) {
			continue
		}
		for j, d := range deltaKinds {
			if d == v.Kind {
				next[name][j] += v.V
			}
		}
	}
	return next
}
