package testhub

import "testing"

// Integration marks a test that needs the real parts (libzmq's Python
// binding, collectd): skipped under go test -short, run by scripts/test
// and CI.
func Integration(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs python3-zmq and collectd; runs without -short")
	}
}
