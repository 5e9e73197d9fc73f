package derive

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/analytics"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// snapshotOf returns a snapshot of n consumers whose backlogs start at
// base, 5 s after the previous one (i of them).
func snapshotOf(n, i int, base float64) model.Snapshot {
	s := model.Snapshot{Arrival: arrival.Add(time.Duration(i) * 5 * time.Second), Period: 5 * time.Second, Session: 1}
	for c := range n {
		s.Consumers = append(s.Consumers, model.Consumer{Name: fmt.Sprintf("c%d", c), Initialized: true,
			Backlog: model.Some(base + float64(c+i)), HeadcountIn: model.Some(3), HeadcountOut: model.Some(2),
			HasTimes: true, Times: []float64{0.1, 0.2}})
	}
	return s
}

// TestSharedScratch: hubs that share their storage hand out the same
// values as hubs with their own, and every batch since the last Reset
// stays as it was, also past the bound that starts new storage.
func TestSharedScratch(t *testing.T) {
	var sc Scratch
	shared := []*Hub{NewHub(analytics.NewHub(0)), NewHub(analytics.NewHub(0))}
	alone := []*Hub{NewHub(analytics.NewHub(0)), NewHub(analytics.NewHub(0))}
	for _, h := range shared {
		h.Shared = &sc
	}
	n := maxArena/40 + 1 // about 20 values a consumer: past the bound in a few calls
	for round := range 3 {
		var got, want [][]report.Value
		for i := range 4 {
			j := i % 2
			s := snapshotOf(n, round*4+i, float64(100*j))
			_, vs := shared[j].Values(s)
			got = append(got, vs)
			_, ws := alone[j].Values(s)
			want = append(want, slices.Clone(ws))
		}
		for i := range got {
			if !slices.Equal(got[i], want[i]) {
				t.Fatalf("round %d, call %d: the shared values differ from a hub's own (%d against %d values)", round, i, len(got[i]), len(want[i]))
			}
		}
		if cap(sc.out) > 2*maxArena {
			t.Errorf("round %d: storage of %d values kept, past twice the bound", round, cap(sc.out))
		}
		sc.Reset()
	}
	// Reset, the storage is written over from its start.
	_, vs := shared[0].Values(snapshotOf(2, 12, 0))
	if len(sc.out) != len(vs) || &sc.out[0] != &vs[0] {
		t.Errorf("after Reset: %d values kept for a call of %d", len(sc.out), len(vs))
	}
}
