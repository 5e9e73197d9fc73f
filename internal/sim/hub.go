package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// ProducerModel describes a polling producer.
type ProducerModel struct {
	Name, Module string
	// Frequency is the polling period in seconds.
	Frequency float64
	// Now polls at start-up.
	Now bool
	// FailAt, if positive, is the simulated time after which the next poll
	// fails; like moksha's, the producer then stops polling for good: its
	// exceptions stay at 1 and last_ran freezes.
	FailAt float64
}

// Profile is a named set of consumers and producers, after a hub an
// operator would recognise.
type Profile struct {
	Name, Description string
	Consumers         []Model
	Producers         []ProducerModel
}

// builtin returns the built-in hubs, by name.
func builtin() map[string]Profile {
	return map[string]Profile{
		"badges": {
			Name:        "badges",
			Description: "a consumer that keeps up: 20 msg/s of 5 ms work, backlog near 0",
			Consumers: []Model{{
				Name: "FedoraBadgesConsumer", Module: "fedbadges.consumers", Topic: "org.fedoraproject.prod.*",
				Arrivals: Constant(20), Service: LogNormal(0.005, 0.5), Workers: 1, FailProb: 0.001,
			}},
			Producers: []ProducerModel{{Name: "MonitoringProducer", Module: "moksha.hub.monitoring", Frequency: 5}},
		},
		"hashing": {
			Name:        "hashing",
			Description: "rare heavy bursts: idle, then 200 source tarballs of ~2 s each on 4 workers every 10 min",
			Consumers: []Model{{
				Name: "SourceTarballHashConsumer", Module: "hotness.consumers", Topic: "org.release-monitoring.prod.anitya.project.version.update",
				Arrivals: Bursts(0.01, 20, 10, 600, 60), Service: LogNormal(2, 0.5), Workers: 4, FailProb: 0.02,
			}},
			Producers: []ProducerModel{{Name: "UpstreamPollProducer", Module: "hotness.producers", Frequency: 60, Now: true, FailAt: 900}},
		},
		"notifications": {
			Name:        "notifications",
			Description: "slow messages: 100 ms each, 4 msg/s with 30 s bursts of 25 msg/s every 5 min, backlog spikes to hundreds",
			Consumers: []Model{{
				Name: "FMNConsumer", Module: "fmn.consumer", Topic: "org.fedoraproject.prod.*",
				Arrivals: Bursts(4, 25, 30, 300, 90), Service: LogNormal(0.1, 0.3), Workers: 1, FailProb: 0.005,
			}},
			Producers: []ProducerModel{{Name: "DigestProducer", Module: "fmn.producer", Frequency: 60}},
		},
	}
}

// profileNames lists the built-in profiles in a fixed order, comma-separated.
const profileNames = "badges,hashing,notifications"

// Describe lists the built-in profiles, one per line, each line starting
// with a newline and two spaces.
func Describe() string {
	ps, _ := Lookup("all")
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "\n  %s: %s", p.Name, p.Description)
	}
	return b.String()
}

// Lookup returns the profiles named in a comma-separated list ("all" or
// "" for every one).
func Lookup(names string) ([]Profile, error) {
	if names == "" || names == "all" {
		names = profileNames
	}
	all := builtin()
	var ps []Profile
	for _, n := range strings.Split(names, ",") {
		p, ok := all[strings.TrimSpace(n)]
		if !ok {
			return nil, fmt.Errorf("no profile %q (have %s)", n, strings.ReplaceAll(profileNames, ",", ", "))
		}
		ps = append(ps, p)
	}
	return ps, nil
}

type producer struct {
	m          ProducerModel
	lastRan    float64 // simulated time of the latest poll start; NaN before
	next       float64
	exceptions int
	stopped    bool
}

func (p *producer) advance(to float64) {
	for !p.stopped && p.next <= to {
		if p.m.FailAt > 0 && p.next >= p.m.FailAt {
			p.lastRan, p.exceptions, p.stopped = p.next, 1, true
			return
		}
		p.lastRan = p.next
		p.next += p.m.Frequency
	}
}

// Hub is a simulated hub: its consumers and producers advance together,
// and each Publish is one monitoring message.
type Hub struct {
	consumers []*Consumer
	producers []*producer
	// epoch maps simulated time to the epoch seconds written in last_ran.
	epoch func(simSeconds float64) float64
}

// NewHub starts the profiles' consumers and producers at simulated time 0.
// epoch maps a simulated time to the epoch seconds reported as last_ran.
func NewHub(profiles []Profile, seed uint64, epoch func(float64) float64) *Hub {
	h := &Hub{epoch: epoch}
	for _, p := range profiles {
		for _, m := range p.Consumers {
			h.consumers = append(h.consumers, NewConsumer(m, seed+uint64(len(h.consumers))))
		}
		for _, m := range p.Producers {
			pr := &producer{m: m, lastRan: math.NaN(), next: m.Frequency}
			if m.Now {
				pr.next = 0
			}
			h.producers = append(h.producers, pr)
		}
	}
	return h
}

// Consumers returns the running consumer simulations.
func (h *Hub) Consumers() []*Consumer { return h.consumers }

// The JSON of a monitoring message, with moksha's key order.
type jsonConsumer struct {
	Name         string    `json:"name"`
	Module       string    `json:"module"`
	Topic        string    `json:"topic"`
	Initialized  bool      `json:"initialized"`
	Exceptions   int       `json:"exceptions"`
	JSONify      bool      `json:"jsonify"`
	Backlog      int       `json:"backlog"`
	HeadcountOut int       `json:"headcount_out"`
	HeadcountIn  int       `json:"headcount_in"`
	Times        []float64 `json:"times"`
}

type jsonProducer struct {
	Name        string   `json:"name"`
	Module      string   `json:"module"`
	Initialized bool     `json:"initialized"`
	Exceptions  int      `json:"exceptions"`
	Frequency   float64  `json:"frequency"`
	Now         bool     `json:"now"`
	LastRan     *float64 `json:"last_ran"`
}

// Publish advances everything to simulated time at and returns the
// monitoring message a moksha hub would send then; the consumers'
// counters start again from zero.
func (h *Hub) Publish(at float64) []byte {
	msg := struct {
		Consumers []jsonConsumer `json:"consumers"`
		Producers []jsonProducer `json:"producers"`
	}{Consumers: []jsonConsumer{}, Producers: []jsonProducer{}}
	for _, c := range h.consumers {
		c.Advance(at)
		s := c.Publish()
		times := s.Times
		if times == nil {
			times = []float64{}
		}
		m := c.Model()
		msg.Consumers = append(msg.Consumers, jsonConsumer{
			Name: m.Name, Module: m.Module, Topic: m.Topic, Initialized: true, Exceptions: s.Exceptions, JSONify: true,
			Backlog: s.Backlog, HeadcountOut: s.Out, HeadcountIn: s.In, Times: times,
		})
	}
	for _, p := range h.producers {
		p.advance(at)
		jp := jsonProducer{Name: p.m.Name, Module: p.m.Module, Initialized: true, Exceptions: p.exceptions, Frequency: p.m.Frequency, Now: p.m.Now}
		if !math.IsNaN(p.lastRan) {
			lr := h.epoch(p.lastRan)
			jp.LastRan = &lr
		}
		msg.Producers = append(msg.Producers, jp)
	}
	data, err := json.Marshal(msg)
	if err != nil {
		panic(fmt.Sprintf("sim: marshal snapshot: %v", err)) // only finite floats and strings
	}
	return data
}

// WallEpoch maps simulated time to epoch seconds for a hub started at
// start and running speed times faster than real time.
func WallEpoch(start time.Time, speed float64) func(float64) float64 {
	base := float64(start.UnixNano()) / 1e9
	return func(sim float64) float64 { return base + sim/speed }
}

// Synthetic returns a monitoring message with the given number of
// consumers, each with times processing times at full float precision, as
// the largest real hubs send; for benchmarks.
func Synthetic(consumers, times int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	msg := struct {
		Consumers []jsonConsumer `json:"consumers"`
		Producers []jsonProducer `json:"producers"`
	}{Producers: []jsonProducer{}}
	for i := range consumers {
		ts := make([]float64, times)
		for j := range ts {
			ts[j] = LogNormal(0.05, 1)(rng)
		}
		msg.Consumers = append(msg.Consumers, jsonConsumer{
			Name: fmt.Sprintf("Consumer%03dHandler", i), Module: "bench.consumers", Topic: "org.fedoraproject.prod.*",
			Initialized: true, Exceptions: rng.IntN(3), JSONify: true, Backlog: rng.IntN(5000),
			HeadcountOut: times, HeadcountIn: times + rng.IntN(50), Times: ts,
		})
	}
	lr := 1795516100.123456
	for _, name := range []string{"MonitoringProducer", "DigestProducer"} {
		msg.Producers = append(msg.Producers, jsonProducer{Name: name, Module: "bench.producers", Initialized: true, Frequency: 5, LastRan: &lr})
	}
	data, err := json.Marshal(msg)
	if err != nil {
		panic(err)
	}
	return data
}

// Scale returns one profile with n consumers, the given profiles'
// consumer models in turn, numbered so their names differ, and their
// producers: a hub as large as wanted, for load tests.
func Scale(profiles []Profile, n int) Profile {
	var models []Model
	p := Profile{Name: "scaled"}
	for _, pr := range profiles {
		models = append(models, pr.Consumers...)
		p.Producers = append(p.Producers, pr.Producers...)
	}
	for i := range n {
		m := models[i%len(models)]
		m.Name = fmt.Sprintf("%s%03d", m.Name, i)
		p.Consumers = append(p.Consumers, m)
	}
	return p
}
