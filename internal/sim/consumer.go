// Package sim models a moksha hub's consumers as queues, to produce
// monitoring snapshots the way a real hub does: a discrete-event simulation
// per consumer (arrivals, a FIFO backlog, workers with random service
// times, exceptions), with counters that reset at every publish and times
// capped at 1024 entries, like moksha's.
//
// It serves the simulated hub that people try the plugin with, and tests
// that check the plugin's queue analytics against a known truth.
package sim

import (
	"math"
	"math/rand/v2"
)

// MaxTimes is how many processing times moksha keeps per publish.
const MaxTimes = 1024

// Rate is an arrival rate that changes over time: at simulated time t (in
// seconds) it returns the rate in messages per second and the time until
// which that rate holds (math.Inf(1) for ever).
type Rate func(t float64) (perSecond, until float64)

// Constant is a Rate that never changes.
func Constant(perSecond float64) Rate {
	return func(float64) (float64, float64) { return perSecond, math.Inf(1) }
}

// Bursts is a Rate of base messages per second, except for a burst at
// burstRate for burstLen seconds at the start of every period (the first
// after offset seconds).
func Bursts(base, burstRate, burstLen, period, offset float64) Rate {
	return func(t float64) (float64, float64) {
		if t < offset {
			return base, offset
		}
		k := math.Floor((t - offset) / period)
		start := offset + k*period
		if t < start+burstLen {
			return burstRate, start + burstLen
		}
		return base, start + period
	}
}

// Model describes one consumer.
type Model struct {
	Name, Module, Topic string
	Arrivals            Rate
	// Service draws one processing time, in seconds.
	Service func(r *rand.Rand) float64
	// Workers process messages in parallel; at least 1.
	Workers int
	// FailProb is the chance that processing a message raises.
	FailProb float64
	// Hold, when not nil, returns until when a worker that takes a
	// message at now is held before it processes it (a hung database
	// call, a deadlock): now or earlier for not at all.
	Hold func(now float64, worker int) float64
	// Away, when not nil, returns until when a worker that would take a
	// message at now is gone (a consumer that disconnected): it takes
	// none until then, and holds none. Now or earlier for not at all.
	Away func(now float64, worker int) float64
}

// Exponential returns service times with the given mean.
func Exponential(mean float64) func(*rand.Rand) float64 {
	return func(r *rand.Rand) float64 { return r.ExpFloat64() * mean }
}

// LogNormal returns service times with the given median and shape sigma
// (about 0.5 for a moderate tail, 1 for a heavy one).
func LogNormal(median, sigma float64) func(*rand.Rand) float64 {
	return func(r *rand.Rand) float64 { return median * math.Exp(sigma*r.NormFloat64()) }
}

// Fixed returns the same service time every time.
func Fixed(d float64) func(*rand.Rand) float64 {
	return func(*rand.Rand) float64 { return d }
}

// Consumer is a running simulation of one Model.
type Consumer struct {
	m   Model
	rng *rand.Rand
	now float64

	nextArrival float64
	queue       []float64 // arrival times of waiting messages, oldest first
	busy        []worker

	// Since the last publish, as moksha counts them.
	in, out, exceptions int
	times               []float64

	// Over the whole run.
	waited   float64 // total time messages waited for a worker
	started  int
	arrivals int

	// With Record: every message's wait, and when the backlog emptied.
	record  bool
	waits   []Wait
	emptied []float64
}

// Wait is the truth about one message: when it arrived and when a worker
// took it.
type Wait struct {
	Arrived, Started float64
}

type worker struct {
	until float64 // completion time; NaN when idle
	took  float64
	away  bool // gone until until, with no message
}

// Record makes the consumer keep every message's wait and the times its
// backlog emptied, for Waits and Emptied (tests of the analytics).
func (c *Consumer) Record() { c.record = true }

// Waits returns the waits of the messages started so far, in the order
// they started (FIFO: the order they arrived).
func (c *Consumer) Waits() []Wait { return c.waits }

// Emptied returns the times at which the backlog became empty, in order.
func (c *Consumer) Emptied() []float64 { return c.emptied }

// NewConsumer starts a simulation of m at time 0 with its own random
// stream.
func NewConsumer(m Model, seed uint64) *Consumer {
	if m.Workers < 1 {
		m.Workers = 1
	}
	c := &Consumer{m: m, rng: rand.New(rand.NewPCG(seed, 0x6d6f6b7368)), busy: make([]worker, m.Workers)}
	for i := range c.busy {
		c.busy[i].until = math.NaN()
	}
	c.nextArrival = c.arrivalAfter(0)
	return c
}

// arrivalAfter draws the next arrival after t from the piecewise rate: an
// exponential gap at the current rate, restarted at each change of rate
// (exact, the process being memoryless).
func (c *Consumer) arrivalAfter(t float64) float64 {
	for !math.IsInf(t, 1) {
		rate, until := c.m.Arrivals(t)
		if rate > 0 {
			if next := t + c.rng.ExpFloat64()/rate; next < until {
				return next
			}
		}
		t = until
	}
	return t
}

// Advance runs the simulation up to time to.
func (c *Consumer) Advance(to float64) {
	for {
		w := c.nextDone()
		done := math.Inf(1)
		if w >= 0 {
			done = c.busy[w].until
		}
		switch {
		case c.nextArrival <= done && c.nextArrival <= to:
			c.arrive(c.nextArrival)
		case done <= to:
			c.finish(w)
		default:
			c.now = to
			return
		}
	}
}

func (c *Consumer) nextDone() int {
	best := -1
	for i, w := range c.busy {
		if !math.IsNaN(w.until) && (best < 0 || w.until < c.busy[best].until) {
			best = i
		}
	}
	return best
}

func (c *Consumer) arrive(t float64) {
	c.now = t
	c.in++
	c.arrivals++
	c.queue = append(c.queue, t)
	c.dispatch()
	c.nextArrival = c.arrivalAfter(t)
}

func (c *Consumer) finish(w int) {
	c.now = c.busy[w].until
	if c.busy[w].away {
		c.busy[w] = worker{until: math.NaN()}
		c.dispatch()
		return
	}
	c.times = append(c.times, c.busy[w].took)
	if len(c.times) > MaxTimes {
		c.times = c.times[len(c.times)-MaxTimes:]
	}
	if c.rng.Float64() < c.m.FailProb {
		c.exceptions++
	}
	c.busy[w].until = math.NaN()
	c.dispatch()
}

// dispatch hands waiting messages to idle workers.
func (c *Consumer) dispatch() {
	for i := range c.busy {
		if len(c.queue) == 0 {
			return
		}
		if !math.IsNaN(c.busy[i].until) {
			continue
		}
		if c.m.Away != nil {
			if until := c.m.Away(c.now, i); until > c.now {
				c.busy[i] = worker{until: until, away: true}
				continue
			}
		}
		arrived := c.queue[0]
		c.queue = c.queue[1:]
		took := max(c.m.Service(c.rng), 0)
		if c.m.Hold != nil {
			took += max(c.m.Hold(c.now, i)-c.now, 0)
		}
		c.busy[i] = worker{until: c.now + took, took: took}
		c.out++
		c.started++
		c.waited += c.now - arrived
		if c.record {
			c.waits = append(c.waits, Wait{Arrived: arrived, Started: c.now})
			if len(c.queue) == 0 {
				c.emptied = append(c.emptied, c.now)
			}
		}
	}
}

// Stats are a consumer's figures at one publish, as moksha reports them.
type Stats struct {
	Backlog, In, Out, Exceptions int
	Times                        []float64
	// InService is how many messages workers hold at the publish (a
	// broker's unacknowledged messages, each consumer taking one at a
	// time); moksha does not report it.
	InService int
}

// Publish returns the figures since the previous publish and resets the
// counters, as moksha's MonitoringProducer does.
func (c *Consumer) Publish() Stats {
	s := Stats{Backlog: len(c.queue), In: c.in, Out: c.out, Exceptions: c.exceptions, Times: c.times}
	for _, w := range c.busy {
		if !math.IsNaN(w.until) && !w.away {
			s.InService++
		}
	}
	c.in, c.out, c.exceptions, c.times = 0, 0, 0, nil
	return s
}

// MeanWait is the mean time the messages started so far waited in the
// backlog, the truth the plugin's Little's-law estimate aims at.
func (c *Consumer) MeanWait() float64 {
	if c.started == 0 {
		return 0
	}
	return c.waited / float64(c.started)
}

// Model returns the consumer's model.
func (c *Consumer) Model() Model { return c.m }
