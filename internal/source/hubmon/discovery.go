package hubmon

import (
	"log/slog"
	"os"
	"sync"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// Discovery lists a directory's monitoring sockets for a Supervisor,
// logging each file it skips once (again only if the reason changes) and
// counting them.
type Discovery struct {
	Dir string
	Log *slog.Logger
	// ReadDir lists Dir; default os.ReadDir.
	ReadDir func(string) ([]os.DirEntry, error)

	mu      sync.Mutex
	logged  map[string]string // path -> reason logged
	skipped int
}

// List returns the endpoints to watch (see Discover).
func (d *Discovery) List() ([]model.Endpoint, error) {
	readDir := d.ReadDir
	if readDir == nil {
		readDir = os.ReadDir
	}
	eps, skips, err := discover(d.Dir, readDir)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.logged == nil {
		d.logged = make(map[string]string)
	}
	now := make(map[string]string, len(skips))
	for _, s := range skips {
		now[s.Path] = s.Reason
		if d.logged[s.Path] != s.Reason && d.Log != nil {
			d.Log.Warn("skipped a file named like a monitoring socket", "path", s.Path, "reason", s.Reason)
		}
	}
	d.logged, d.skipped = now, len(skips)
	return eps, nil
}

// Skipped returns how many files the latest List skipped.
func (d *Discovery) Skipped() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.skipped
}
