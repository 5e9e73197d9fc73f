package sim

import (
	"flag"
	"fmt"
	"time"
)

// Flags are the command-line flags of a simulated hub, shared by the
// simulate and demo commands.
type Flags struct {
	profiles string
}

// Register registers the flags on fs, filling p; speed is --speed's
// default.
func (f *Flags) Register(fs *flag.FlagSet, p *Publisher, speed float64) {
	fs.StringVar(&f.profiles, "profile", "all", "comma-separated built-in profiles: "+Describe())
	fs.DurationVar(&p.Period, "period", 5*time.Second, "simulated publish period (moksha's is 5s)")
	fs.Float64Var(&p.Speed, "speed", speed, "simulated seconds per real second: 10 publishes every 0.5s and\nbrings the first bursts within 10s")
	fs.Uint64Var(&p.Seed, "seed", 1, "random seed: the same seed gives the same hub")
}

// Check checks the parsed flags and looks up the profiles into p.
func (f *Flags) Check(p *Publisher) error {
	var err error
	if p.Profiles, err = Lookup(f.profiles); err != nil {
		return fmt.Errorf("--profile: %w", err)
	}
	if err := p.Check(); err != nil {
		return fmt.Errorf("--period and --speed: %w", err)
	}
	return nil
}
