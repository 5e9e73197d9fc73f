package derive

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fedora-infra/fedmsg-collectd/internal/analytics"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/report"
	"github.com/fedora-infra/fedmsg-collectd/internal/sink/putval"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// arrival is a fixed arrival time, 1 s after the last poll of the ipc-01
// capture's MonitoringProducer.
var arrival = time.Unix(1795516100, 8815500)

// render is the whole write path for one snapshot, as the plugin runs it:
// derive, then the collectd sink.
func render(t *testing.T, s model.Snapshot) string {
	t.Helper()
	var buf bytes.Buffer
	subjects, vs := NewHub(nil).Values(s)
	err := putval.NewSink(&buf, "myhost").Write(report.Update{Snapshots: []report.Batch{{Service: "fedmsg-hub", Time: s.Arrival, Interval: 5 * time.Second, Subjects: subjects, Values: vs}}})
	if err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// collectd returns the values of one snapshot as the collectd sink maps
// them, each type instance in one piece.
func collectd(sink *putval.Sink, subjects []string, vs []report.Value) []putval.Value {
	return whole(sink.Map(report.Batch{Service: "fedmsg-hub", Subjects: subjects, Values: vs}).Values)
}

// values returns the collectd values of a single snapshot without analytics.
func values(s model.Snapshot) []putval.Value {
	subjects, vs := NewHub(nil).Values(s)
	return collectd(putval.NewSink(nil, "myhost"), subjects, vs)
}

// TestGolden renders every capture (and hand-made odd snapshots) and
// compares with testdata/NAME.putval; go test -update rewrites them.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("../model/testdata/*.json")
	odd, _ := filepath.Glob("testdata/*.json")
	files = append(files, odd...)
	if len(files) < 5 {
		t.Fatalf("inputs: %v", files)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			s, err := model.Decode(data, arrival)
			if err != nil {
				t.Fatal(err)
			}
			got := render(t, s)
			golden := filepath.Join("testdata", name+".putval")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(string(want), got); d != "" {
				t.Errorf("%s (-want +got):\n%s", golden, d)
			}
		})
	}
}

// TestCompat spells out the old script's semantics on a small snapshot,
// independently of the golden files.
func TestCompat(t *testing.T) {
	s := model.Snapshot{
		Arrival: arrival,
		Consumers: []model.Consumer{
			{Name: "C", Initialized: true, Backlog: model.Some(7), Exceptions: model.Some(1), HeadcountIn: model.Some(10), HeadcountOut: model.Some(9),
				Times: []float64{0.010, 0.030, 0.020}, HasTimes: true},
			{Name: "Idle", Initialized: true, Backlog: model.Some(0), Exceptions: model.Some(0), Times: []float64{}, HasTimes: true},
			{Name: "Old", Initialized: true, Backlog: model.Some(3), Exceptions: model.Some(0)},
			{Name: "Broken", Initialized: false, Exceptions: model.Some(0)},
		},
		Producers: []model.Producer{
			{Name: "P", Initialized: true, Exceptions: model.Some(2), LastRan: model.Some(float64(arrival.Unix()) - 90)},
			{Name: "Never", Initialized: true, Exceptions: model.Some(0)},
			{Name: "Future", Initialized: true, Exceptions: model.Some(0), LastRan: model.Some(float64(arrival.Unix()) + 30)},
			{Name: "Dead", Initialized: false, Exceptions: model.Some(1)},
		},
	}
	want := []putval.Value{
		{Type: "queue_length", TypeInstance: "C_backlog", Value: 7},
		{Type: "gauge", TypeInstance: "C_exceptions", Value: 1},
		{Type: "gauge", TypeInstance: "C_in", Value: 10},
		{Type: "gauge", TypeInstance: "C_out", Value: 9},
		{Type: "response_time", TypeInstance: "C_min", Value: 10},
		{Type: "response_time", TypeInstance: "C_max", Value: 30},
		{Type: "response_time", TypeInstance: "C_avg", Value: 20},
		{Type: "queue_length", TypeInstance: "Idle_backlog", Value: 0},
		{Type: "gauge", TypeInstance: "Idle_exceptions", Value: 0},
		{Type: "response_time", TypeInstance: "Idle_min", Value: 0},
		{Type: "response_time", TypeInstance: "Idle_max", Value: 0},
		{Type: "response_time", TypeInstance: "Idle_avg", Value: 0},
		{Type: "queue_length", TypeInstance: "Old_backlog", Value: 3},
		{Type: "gauge", TypeInstance: "Old_exceptions", Value: 0},
		{Type: "gauge", TypeInstance: "P_exceptions", Value: 2},
		{Type: "duration", TypeInstance: "P_last_ran_age", Value: 90 + 0.0088155},
		{Type: "gauge", TypeInstance: "Never_exceptions", Value: 0},
		{Type: "gauge", TypeInstance: "Future_exceptions", Value: 0},
		{Type: "duration", TypeInstance: "Future_last_ran_age", Value: 0},
		{Type: "count", TypeInstance: "consumers", Value: 4},
		{Type: "count", TypeInstance: "producers", Value: 4},
		{Type: "count", TypeInstance: "uninitialized", Value: 2},
	}
	approx := cmp.Comparer(func(a, b float64) bool { return a == b || (a-b < 1e-6 && b-a < 1e-6) })
	if d := cmp.Diff(want, values(s), approx); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestSharedNames: a producer named like a consumer, and two consumers of
// one class, do not overwrite each other's values.
func TestSharedNames(t *testing.T) {
	s := model.Snapshot{
		Arrival: arrival,
		Consumers: []model.Consumer{
			{Name: "X", Initialized: true, Exceptions: model.Some(1)},
			{Name: "X", Initialized: true, Exceptions: model.Some(2)},
		},
		Producers: []model.Producer{{Name: "X", Initialized: true, Exceptions: model.Some(3)}},
	}
	var got []string
	for _, v := range values(s) {
		if v.Type == "gauge" {
			got = append(got, v.Instance())
		}
	}
	if d := cmp.Diff([]string{"X_exceptions", "X_2_exceptions", "X_3_exceptions"}, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestGoldenSequence renders the real hub's captures in the order they
// were taken, 5 s apart, through one analytics state: the extended output
// with rates, wait, drain time, percentiles and utilisation.
func TestGoldenSequence(t *testing.T) {
	h := NewHub(analytics.NewHub(analytics.DefaultSmoothing))
	var buf bytes.Buffer
	sink := putval.NewSink(&buf, "myhost")
	for i, name := range []string{"ipc-01", "ipc-06", "ipc-12"} {
		data, err := os.ReadFile("../model/testdata/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		s, err := model.Decode(data, arrival.Add(time.Duration(i)*25*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		s.Period, s.Session = 5*time.Second, 1
		subjects, vs := h.Values(s)
		if err := sink.Write(report.Update{Snapshots: []report.Batch{{Service: "fedmsg-hub", Time: s.Arrival, Interval: s.Period, Subjects: subjects, Values: vs}}}); err != nil {
			t.Fatal(err)
		}
	}
	got := &buf
	golden := filepath.Join("testdata", "sequence.putval")
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), got.String()); d != "" {
		t.Errorf("%s (-want +got):\n%s", golden, d)
	}
}

// whole returns vs with each type instance in one piece, as written.
func whole(vs []putval.Value) []putval.Value {
	out := make([]putval.Value, len(vs))
	for i, v := range vs {
		out[i] = putval.Value{Type: v.Type, TypeInstance: v.Instance(), Value: v.Value}
	}
	return out
}

// TestHubNamesFollowTheHub: one Hub over snapshots whose consumers change
// gives each snapshot the names of its own consumers, although it keeps
// the previous ones and reuses its buffers.
func TestHubNamesFollowTheHub(t *testing.T) {
	c := func(name string, backlog float64) model.Consumer {
		return model.Consumer{Name: name, Initialized: true, Backlog: model.Some(backlog)}
	}
	snaps := [][]model.Consumer{
		{c("A", 1), c("B", 2)},
		{c("A", 3), c("B", 4)},
		{c("A", 5), c("A", 6)},
		{c("B/x", 7), c("A", 8), c("B", 9)},
		{c("A", 10), c("B", 11)},
	}
	want := [][]string{
		{"A_backlog=1", "B_backlog=2"},
		{"A_backlog=3", "B_backlog=4"},
		{"A_backlog=5", "A_2_backlog=6"},
		{"B_x_backlog=7", "A_backlog=8", "B_backlog=9"},
		{"A_backlog=10", "B_backlog=11"},
	}
	h := NewHub(nil)
	sink := putval.NewSink(nil, "myhost")
	var results [][]report.Value
	for i, cs := range snaps {
		subjects, vs := h.Values(model.Snapshot{Arrival: arrival, Consumers: cs})
		var got []string
		for _, v := range collectd(sink, subjects, vs) {
			if v.Type == "queue_length" {
				got = append(got, fmt.Sprintf("%s=%g", v.Instance(), v.Value))
			}
		}
		if d := cmp.Diff(want[i], got); d != "" {
			t.Errorf("snapshot %d (-want +got):\n%s", i, d)
		}
		results = append(results, vs)
	}
	if &results[0][0] != &results[1][0] {
		t.Error("the values' buffer was not reused")
	}
}

// TestInvalidUTF8Name: a name with invalid UTF-8 (the fast decoder leaves
// it to encoding/json, which makes it U+FFFD) is written with '_' where the
// bad byte was, as the README says.
func TestInvalidUTF8Name(t *testing.T) {
	s, err := model.Decode([]byte("{\"consumers\": [{\"name\": \"bad\xffname\", \"backlog\": 1}]}"), arrival)
	if err != nil {
		t.Fatal(err)
	}
	if got := render(t, s); !strings.Contains(got, `"myhost/fedmsg-hub/queue_length-bad_name_backlog"`) {
		t.Errorf("written as:\n%s", got)
	}
}

// TestBuckets: with Histograms, each consumer's times are counted into
// cumulative buckets, with their count and sum; a consumer without times
// has none, and without Histograms nobody has.
func TestBuckets(t *testing.T) {
	s := model.Snapshot{Consumers: []model.Consumer{{Name: "C", Initialized: true, HasTimes: true,
		Backlog: model.Some(0), Times: []float64{0.0005, 0.003, 0.003, 0.7, 1000}}}}
	h := NewHub(nil)
	for _, v := range func() []report.Value { _, vs := h.Values(s); return vs }() {
		if v.Kind.Info().Type == report.Bucket {
			t.Fatalf("a histogram value %v without Histograms", v.Kind)
		}
	}
	h.Histograms = true
	_, vs := h.Values(s)
	got := map[report.Kind]float64{}
	buckets := 0
	for _, v := range vs {
		got[v.Kind] = v.V
		if v.Kind.Info().Type == report.Bucket {
			buckets++
		}
	}
	// 0.0005 s, twice 0.003 s and 0.7 s, each in its bucket (a time on a
	// bound in the bucket it closes); 1000 s is only in the count.
	want := map[float64]float64{0.0005: 1, 0.00315: 2, 0.8: 1}
	if buckets != 2+len(want) {
		t.Fatalf("%d values of the histogram, want %d", buckets, 2+len(want))
	}
	s.Consumers[0].HasTimes, s.Consumers[0].Times = false, nil
	_, vs = h.Values(s)
	for _, v := range vs {
		if v.Kind.Info().Type == report.Bucket {
			t.Errorf("a consumer without times has a histogram value %v", v.Kind)
		}
	}
	for b, le := range report.TimeBounds() {
		if g := got[report.TimeLE0+report.Kind(b)]; g != want[le] {
			t.Errorf("bucket le=%v: %v, want %v", le, g, want[le])
		}
	}
	if got[report.TimeCount] != 5 || math.Abs(got[report.TimeSum]-1000.7065) > 1e-9 {
		t.Errorf("count %v sum %v", got[report.TimeCount], got[report.TimeSum])
	}
}
