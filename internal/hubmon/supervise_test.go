package hubmon

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestSupervisorFollowsList: endpoints that appear are watched, those that
// go away are stopped, and Run stops everything when its context ends.
func TestSupervisorFollowsList(t *testing.T) {
	dir := t.TempDir()
	a := Endpoint{"fedmsg-a", "ipc://" + filepath.Join(dir, "a")}
	b := Endpoint{"fedmsg-b", "ipc://" + filepath.Join(dir, "b")}
	var mu sync.Mutex
	current := []Endpoint{a}
	s := &Supervisor{Deliver: func(Endpoint, Snapshot) {}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx, 10*time.Millisecond, func() ([]Endpoint, error) {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(current), nil
		})
	}()
	waitSet := func(want ...Endpoint) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			var got []string
			for ep := range s.Endpoints() {
				got = append(got, ep.Service)
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
	set := func(eps ...Endpoint) {
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
	if n := len(s.Endpoints()); n != 0 {
		t.Errorf("%d endpoints still watched after Run returned", n)
	}
}
