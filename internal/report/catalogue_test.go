package report

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCatalogue(t *testing.T) {
	names := map[string]Kind{}
	for _, k := range Kinds() {
		in := k.Info()
		if in.Name == "" || in.Help == "" {
			t.Errorf("kind %d has no name or help in the catalogue", k)
		}
		if prev, dup := names[in.Name]; dup && k < TimeLE0 {
			t.Errorf("kinds %d and %d are both named %q", prev, k, in.Name)
		}
		names[in.Name] = k
	}
	// The scope comes from the table, not the constants' order.
	for k, want := range map[Kind]Scope{Backlog: Entry, Workers: Entry, InService: Entry, TimeLE0 + 3: Entry,
		HubUp: Hub, Consumers: Hub, Snapshots: Endpoint, FailedPolls: Endpoint, Memory: Process, LatencyP99: Process} {
		if got := k.Scope(); got != want {
			t.Errorf("%v.Scope() = %d, want %d", k, got, want)
		}
	}
}

func TestDistinct(t *testing.T) {
	upper := func(s string) string {
		if s == "" {
			return "unnamed"
		}
		return s
	}
	got := Distinct([]string{"a", "a_2", "a", "", ""}, upper, nil)
	if d := cmp.Diff([]string{"a", "a_2", "a_3", "unnamed", "unnamed_2"}, got); d != "" {
		t.Errorf("Distinct (-want +got):\n%s", d)
	}
	// A fit that cuts every suffix off ends, sharing the name.
	cut := func(s string) string { return s[:min(len(s), 3)] }
	if got := Distinct([]string{"abcd", "abcd"}, upper, cut); !cmp.Equal(got, []string{"abc", "abc"}) {
		t.Errorf("Distinct with a cutting fit = %q", got)
	}
	if got := Distinct([]string{"x", "x", "x"}, upper, nil); !cmp.Equal(got, []string{"x", "x_2", "x_3"}) {
		t.Errorf("Distinct = %q", got)
	}
}
