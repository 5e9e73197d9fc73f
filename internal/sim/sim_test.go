package sim

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

var epoch = WallEpoch(time.Unix(1795516100, 0), 1)

// runProfile publishes every 5 s for horizon simulated seconds and returns
// the decoded snapshots.
func runProfile(t *testing.T, name string, horizon float64) []model.Snapshot {
	t.Helper()
	ps, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHub(ps, 1, epoch)
	var snaps []model.Snapshot
	for at := 5.0; at <= horizon; at += 5 {
		s, err := model.Decode(h.Publish(at), time.Unix(0, 0))
		if err != nil {
			t.Fatalf("simulated snapshot does not decode: %v", err)
		}
		if s.Skipped > 0 {
			t.Fatalf("simulated snapshot has malformed entries: %v", s.SkipErr)
		}
		snaps = append(snaps, s)
	}
	return snaps
}

func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*math.Abs(want) {
		t.Errorf("%s = %.4g, want %.4g within %.0f%%", what, got, want, 100*tol)
	}
}

// TestProfiles: each profile's arrival rate and service time over a long
// run match its model, and the bursts come where the model puts them.
func TestProfiles(t *testing.T) {
	lognormalMean := func(median, sigma float64) float64 { return median * math.Exp(sigma*sigma/2) }
	tests := []struct {
		profile     string
		horizon     float64
		rate        float64 // long-run mean arrivals per second
		service     float64 // mean processing time
		burstStart  float64 // first burst, period, length (0: none)
		burstPeriod float64
		burstLen    float64
		minPeak     int // the backlog reaches at least this
		maxBacklog  int // and never more than this
	}{
		{"badges", 3600, 20, lognormalMean(0.005, 0.5), 0, 0, 0, 0, 20},
		{"hashing", 6 * 3600, (0.01*590 + 20*10) / 600, lognormalMean(2, 0.5), 60, 600, 10, 150, 220},
		{"notifications", 3 * 3600, (4*270 + 25*30) / 300.0, lognormalMean(0.1, 0.3), 90, 300, 30, 200, 700},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			snaps := runProfile(t, tt.profile, tt.horizon)
			var in, inBurst, peak int
			var sum float64
			var n int
			for i, s := range snaps {
				c := s.Consumers[0]
				in += int(c.HeadcountIn.V)
				peak = max(peak, int(c.Backlog.V))
				if len(c.Times) > MaxTimes {
					t.Fatalf("%d times in one snapshot", len(c.Times))
				}
				for _, d := range c.Times {
					sum += d
					n++
				}
				// Publish i covers (5i, 5i+5]; is it inside a burst?
				if tt.burstPeriod > 0 {
					from := float64(i)*5 - tt.burstStart
					if from >= 0 && math.Mod(from, tt.burstPeriod) < tt.burstLen {
						inBurst += int(c.HeadcountIn.V)
					}
				}
			}
			within(t, "mean arrival rate", float64(in)/tt.horizon, tt.rate, 0.05)
			within(t, "mean service time", sum/float64(n), tt.service, 0.05)
			if tt.burstPeriod > 0 {
				frac := float64(inBurst) / float64(in)
				wantFrac := 25.0 * tt.burstLen / (tt.rate * tt.burstPeriod) // notifications
				if tt.profile == "hashing" {
					wantFrac = 20 * tt.burstLen / (tt.rate * tt.burstPeriod)
				}
				within(t, "share of arrivals inside bursts", frac, wantFrac, 0.05)
			}
			if peak < tt.minPeak || peak > tt.maxBacklog {
				t.Errorf("backlog peaked at %d, want %d to %d", peak, tt.minPeak, tt.maxBacklog)
			}
		})
	}
}

// TestMokshaCounters: counters reset at each publish and times are capped.
func TestMokshaCounters(t *testing.T) {
	c := NewConsumer(Model{Name: "Fast", Arrivals: Constant(1000), Service: Fixed(0.0001)}, 7)
	c.Advance(5)
	s := c.Publish()
	if s.In < 4500 || s.Out < 4500 || len(s.Times) != MaxTimes {
		t.Errorf("first publish: in %d, out %d, %d times", s.In, s.Out, len(s.Times))
	}
	c.Advance(5)
	if s := c.Publish(); s.In != 0 || s.Out != 0 || len(s.Times) != 0 || s.Exceptions != 0 {
		t.Errorf("counters not reset: %+v", s)
	}
}

// TestStalledProducer: the hashing hub's poller fails at 900 s and then
// reports exceptions 1 with a frozen last_ran, as moksha's do.
func TestStalledProducer(t *testing.T) {
	snaps := runProfile(t, "hashing", 1500)
	var frozen float64
	for i, s := range snaps {
		p := s.Producers[0]
		at := float64(i+1) * 5
		switch {
		case at < 900:
			if p.Exceptions.V != 0 || !p.LastRan.Valid || epoch(at)-p.LastRan.V > 60 {
				t.Fatalf("at %vs before the failure: %+v", at, p)
			}
		case at >= 905:
			if p.Exceptions.V != 1 {
				t.Fatalf("at %vs: exceptions %v, want 1", at, p.Exceptions.V)
			}
			if frozen == 0 {
				frozen = p.LastRan.V
			}
			if p.LastRan.V != frozen {
				t.Fatalf("at %vs: last_ran moved after the failure", at)
			}
		}
	}
	// A producer that has not polled yet reports null.
	h := NewHub([]Profile{{Producers: []ProducerModel{{Name: "Late", Frequency: 60}}}}, 1, epoch)
	s, _ := model.Decode(h.Publish(5), time.Unix(0, 0))
	if s.Producers[0].LastRan.Valid {
		t.Errorf("last_ran before the first poll: %+v", s.Producers[0])
	}
}

func TestLookup(t *testing.T) {
	for names, want := range map[string]int{"": 3, "all": 3, "badges": 1, "badges,notifications": 2} {
		ps, err := Lookup(names)
		if err != nil || len(ps) != want {
			t.Errorf("Lookup(%q): %d profiles, %v", names, len(ps), err)
		}
	}
	if _, err := Lookup("nope"); err == nil {
		t.Error("unknown profile accepted")
	}
}

// TestPublisherSocketFile: the socket's directory is made, and the socket
// gets the group and mode a plugin in that group needs.
func TestPublisherSocketFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a file another group needs root")
	}
	path := filepath.Join(t.TempDir(), "run", "fedmsg", "monitoring-fedmsg-hub.socket")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	p := Publisher{Bind: "ipc://" + path, Profiles: mustLookup(t, "badges"), Period: time.Second, Speed: 1, Mode: 0o770, Group: "nogroup"}
	go func() { done <- p.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	var fi os.FileInfo
	for time.Now().Before(deadline) {
		if f, err := os.Stat(path); err == nil && f.Mode().Perm() == 0o770 {
			fi = f
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if fi == nil {
		t.Fatal("no socket with mode 0770 within 5s")
	}
	if gid := fi.Sys().(*syscall.Stat_t).Gid; gid != 65534 {
		t.Errorf("socket group %d, want nogroup (65534)", gid)
	}
	if d, err := os.Stat(filepath.Dir(path)); err != nil || d.Mode().Perm() != 0o755 {
		t.Errorf("socket directory: %v, %v", d, err)
	}
	p.Group = "no-such-group-here"
	if err := p.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "no-such-group-here") {
		t.Errorf("unknown group: %v", err)
	}
}

func mustLookup(t *testing.T, names string) []Profile {
	t.Helper()
	p, err := Lookup(names)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestStages: the counters never decrease and never let a later stage
// pass an earlier one; the plugin stage backs up in a burst.
func TestStages(t *testing.T) {
	s := DemoStages(1, 3)
	prev := make([]float64, len(s.Names))
	most := 0.0
	for range 4000 { // 400 simulated seconds, past the first burst
		s.Step(0.1)
		for i, c := range s.counts {
			if c < prev[i] || i > 0 && c > s.counts[i-1] {
				t.Fatalf("at %.1f s: counts %v after %v", s.at, s.counts, prev)
			}
		}
		copy(prev, s.counts)
		most = max(most, s.counts[1]-s.counts[2])
	}
	if most < 200 {
		t.Errorf("the plugin stage's queue peaked at %v in a burst of 30/s against 9/s", most)
	}
}
