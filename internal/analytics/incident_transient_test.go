package analytics

import "github.com/fedora-infra/fedmsg-collectd/internal/sim"

// The incident scenario of a broker's queue, as issue 34's hold-out: 3
// consumers of skewed times (30 msg/s in all) at 24 msg/s (80 %); one
// consumer gone for 60 s (its capacity 20 msg/s: the queue grows), then
// back (it drains); every processing time doubled for 90 s (15 msg/s:
// it grows), then recovered (it drains). The consumer leaves and comes
// back between polls; the speed changes at a poll.
func init() {
	polledScenarios = append(polledScenarios, polled{
		name:    "broker, 3 consumers, one lost, then all slowed",
		model:   sim.Model{Name: "q", Workers: 3, Service: skewed, Arrivals: sim.Constant(24)},
		workers: true,
		aways:   []hang{{122.5, 182.5, []int{2}}},
		slow:    map[float64]float64{300: 2, 390: 1},
		phases: []phase{{0, "steady", false}, {122.5, "consumer lost", false}, {182.5, "consumer back", false},
			{300, "slowed", false}, {390, "recovering", false}},
		horizon: 600,
	})
}
