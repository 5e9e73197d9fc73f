package hubmon

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// TestSupervisorFollowsList: endpoints that appear are watched, those that
// go away are stopped, and Run stops everything when its context ends.
func TestSupervisorFollowsList(t *testing.T) {
	dir := t.TempDir()
	a := model.Endpoint{Service: "fedmsg-a", Addr: "ipc://" + filepath.Join(dir, "a")}
	b := model.Endpoint{Service: "fedmsg-b", Addr: "ipc://" + filepath.Join(dir, "b")}
	var mu sync.Mutex
	current := []model.Endpoint{a}
	s := &Supervisor{Rescan: 10 * time.Millisecond, Forget: time.Nanosecond, List: func() ([]model.Endpoint, error) {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(current), nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx, func(model.Message) {})
	}()
	waitSet := func(want ...model.Endpoint) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			var got []string
			for _, w := range s.Watched() {
				got = append(got, w.Endpoint.Service)
			}
			slices.Sort(got)
			var names []string
			for _, ep := range want {
				names = append(names, ep.Service)
			}
			if slices.Equal(got, names) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("watching %v, want %v", got, names)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	set := func(eps ...model.Endpoint) {
		mu.Lock()
		current = eps
		mu.Unlock()
	}
	waitSet(a)
	set(a, b)
	waitSet(a, b)
	set(b)
	waitSet(b)
	set()
	waitSet()
	set(a)
	waitSet(a)
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return within 2s of cancel")
	}
	if n := len(s.Watched()); n != 0 {
		t.Errorf("%d endpoints still watched after Run returned", n)
	}
}

// TestSupervisorKeepsGone: an endpoint that discovery no longer lists (its
// socket file removed) stays in Watched, its watcher stopped, until Forget
// has passed; listed again, it is watched again.
func TestSupervisorKeepsGone(t *testing.T) {
	a := model.Endpoint{Service: "fedmsg-a", Addr: "ipc://" + filepath.Join(t.TempDir(), "a")}
	now := time.Unix(1795516100, 0)
	s := &Supervisor{Forget: time.Hour, Now: func() time.Time { return now }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	deliver := func(model.Message) {}
	watched := func() []string {
		var names []string
		for _, w := range s.Watched() {
			names = append(names, w.Endpoint.Service)
		}
		return names
	}
	s.set(ctx, []model.Endpoint{a}, deliver)
	s.set(ctx, nil, deliver) // the socket went away
	now = now.Add(59 * time.Minute)
	s.set(ctx, nil, deliver)
	if got := watched(); !slices.Equal(got, []string{"fedmsg-a"}) {
		t.Fatalf("59 min after it went away: watching %v, want it still", got)
	}
	if w := s.running[a]; w.cancel != nil || w.gone.IsZero() {
		t.Errorf("its watcher still runs: %+v", w)
	}
	s.set(ctx, []model.Endpoint{a}, deliver) // back
	if w := s.running[a]; w.cancel == nil || !w.gone.IsZero() {
		t.Errorf("back, but not watched: %+v", w)
	}
	s.set(ctx, nil, deliver)
	now = now.Add(time.Hour)
	s.set(ctx, nil, deliver)
	if got := watched(); len(got) != 0 {
		t.Errorf("an hour after it went away again: watching %v, want nothing", got)
	}
	cancel()
	s.wg.Wait()
}
