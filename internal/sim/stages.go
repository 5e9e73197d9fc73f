package sim

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"
)

// Stages simulates a service that counts the events of each stage of a
// pipeline, cumulatively, as the counters source reads them: uploads
// arrive (with a burst every five minutes), and each stage after the
// first works its queue at its own capacity.
type Stages struct {
	// Names of the stages, in order; Capacity of each, in events per
	// second (the first stage's is its arrival rate).
	Names    []string
	Capacity []float64
	// Speed is the simulated seconds per wall-clock second.
	Speed float64

	mu     sync.Mutex
	counts []float64
	queues []float64 // waiting before each stage
	at     float64   // simulated seconds
	rng    *rand.Rand
}

// DemoStages is the built-in profile: uploads at 8/s with bursts of 30/s
// for 40 s every 5 minutes, staging at 20/s, a plugin at 9/s, processing
// at 12/s, completion at 40/s: the plugin stage backs up in each burst.
func DemoStages(speed float64, seed uint64) *Stages {
	names := []string{"Uploaded", "Staged", "Plugin", "Processed", "Complete"}
	return &Stages{
		Names:    names,
		Capacity: []float64{8, 20, 9, 12, 40},
		Speed:    speed,
		counts:   make([]float64, len(names)),
		queues:   make([]float64, len(names)),
		rng:      rand.New(rand.NewPCG(seed, 7)),
	}
}

// Run advances the simulation every 100 ms of wall clock until stop is
// closed.
func (s *Stages) Run(stop <-chan struct{}) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.Step(0.1 * s.Speed)
		}
	}
}

// Step advances dt simulated seconds.
func (s *Stages) Step(dt float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rate := s.Capacity[0]
	if phase := s.at - 300*float64(int(s.at/300)); phase >= 60 && phase < 100 {
		rate = 30 // the burst
	}
	s.at += dt
	// Poisson arrivals, by their normal approximation past a few.
	mean := rate * dt
	n := mean + s.rng.NormFloat64()*math.Sqrt(mean)
	if n < 0 {
		n = 0
	}
	n = float64(int(n + 0.5))
	s.counts[0] += n
	moved := n
	for i := 1; i < len(s.Names); i++ {
		s.queues[i] += moved
		done := min(s.queues[i], float64(int(s.Capacity[i]*dt+s.rng.Float64())))
		s.queues[i] -= done
		s.counts[i] += done
		moved = done
	}
}

// ServeHTTP answers the counters as a JSON object in stage order.
func (s *Stages) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	b := []byte{'{'}
	for i, name := range s.Names {
		if i > 0 {
			b = append(b, ',', ' ')
		}
		k, _ := json.Marshal(name)
		b = append(b, k...)
		b = append(b, ':', ' ')
		v, _ := json.Marshal(int64(s.counts[i]))
		b = append(b, v...)
	}
	s.mu.Unlock()
	b = append(b, '}', '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// ServeStages runs the demo's simulated stages (DemoStages) behind a
// loopback HTTP server until ctx ends, and returns the server's URL and
// how to stop it; done gets nil when the simulation ends.
func ServeStages(ctx context.Context, speed float64, seed uint64, done chan<- error) (string, func(), error) {
	st := DemoStages(speed, seed)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: st, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	go func() { st.Run(ctx.Done()); done <- nil }()
	return "http://" + ln.Addr().String() + "/", func() { srv.Close() }, nil
}
