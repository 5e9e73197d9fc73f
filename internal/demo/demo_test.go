package demo

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fedora-infra/fedmsg-collectd/internal/sim"
	"github.com/fedora-infra/fedmsg-collectd/internal/sink/putval"
	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// epoch is the simulated hub's start in every test: a fixed time, so the
// output is the same on every run.
var epoch = time.Unix(1796216400, 0)

// virtual runs the demo virtually for span and returns the PUTVAL lines
// of host h, checked against testdata/golden (rewritten with -update).
func virtual(t *testing.T, stages bool, span time.Duration, golden string) string {
	t.Helper()
	profiles, err := sim.Lookup("all")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sc := sim.Publisher{Profiles: profiles, Period: 5 * time.Second, Speed: 1, Seed: 1}
	if err := Virtual(sc, stages, epoch, span, putval.NewSink(&out, "h")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", golden)
	if *update {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(out.String(), "\n")); d != "" {
		t.Errorf("the demo's output changed (-%s +got):\n%.3000s", path, d)
	}
	return out.String()
}

// TestDemo: the demo prints the three profiles' values, and the
// notifications burst shows within 210 s of hub time; the time stamps
// are the hub's, 5 s apart.
func TestDemo(t *testing.T) {
	out := virtual(t, false, 210*time.Second, "hub.golden")
	for _, c := range []string{"FedoraBadgesConsumer", "SourceTarballHashConsumer", "FMNConsumer"} {
		// A snapshot every 5 s, the first one left out (collectd's sink
		// has no rate for it).
		if _, v := testhub.Putvals(out, "h/fedmsg-hub/queue_length-"+c+"_backlog"); len(v) < 35 || len(v) > 43 {
			t.Errorf("%s: %d backlog values in 210 s, want about 42", c, len(v))
		}
	}
	at, v := testhub.Putvals(out, "h/fedmsg-hub/queue_length-FMNConsumer_backlog")
	for i := 1; i < len(at); i++ {
		if d := at[i] - at[i-1]; d < 2.5 || d > 7.5 {
			t.Errorf("FMNConsumer backlog values %.3f s of hub time apart, want 5", d)
		}
	}
	if peak := slices.Max(append(v, 0)); peak < 100 {
		t.Errorf("FMNConsumer backlog peaked at %v in 210 simulated s: no burst", peak)
	}
	if !strings.Contains(out, `"h/fedmsg-hub/duration-FMNConsumer_wait"`) {
		t.Error("no wait values")
	}
}

// TestDemoCounters: the demo's stage counters, read by the counters
// source, give the queues between the stages; 210 s hold a burst, 30/s
// against the plugin stage's 9/s.
func TestDemoCounters(t *testing.T) {
	out := virtual(t, true, 210*time.Second, "counters.golden")
	for _, want := range []string{`"h/pipeline/queue_length-Uploaded_to_Staged_backlog"`, `"h/pipeline/queue_length-Staged_to_Plugin_backlog"`,
		`"h/pipeline/operations_per_second-Processed_to_Complete_arrival_rate"`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in:\n%.2000s", want, out)
		}
	}
	if _, v := testhub.Putvals(out, "h/pipeline/queue_length-Staged_to_Plugin_backlog"); slices.Max(append(v, 0)) < 100 {
		t.Errorf("the plugin stage's backlog peaked at %v", slices.Max(append(v, 0)))
	}
}
