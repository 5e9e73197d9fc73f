package hubmon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testArrival = time.Unix(1795516100, 250e6)

// TestDecodeFixtures decodes every capture of a real hub.
func TestDecodeFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) < 4 {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Decode(data, testArrival)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if s.Skipped != 0 || len(s.Consumers) != 4 || len(s.Producers) != 4 {
			t.Errorf("%s: %d consumers, %d producers, %d skipped (%v)", f, len(s.Consumers), len(s.Producers), s.Skipped, s.SkipErr)
		}
		if !s.Arrival.Equal(testArrival) {
			t.Errorf("%s: testArrival %v", f, s.Arrival)
		}
		for _, c := range s.Consumers {
			if !c.Initialized || !c.Backlog.Valid || !c.HeadcountIn.Valid || !c.HasTimes || len(c.Topics) == 0 {
				t.Errorf("%s: consumer %+v incomplete", f, c)
			}
		}
	}
}

// TestDecodeCapture checks one capture field by field.
func TestDecodeCapture(t *testing.T) {
	data, err := os.ReadFile("testdata/ipc-06.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Decode(data, testArrival)
	if err != nil {
		t.Fatal(err)
	}
	fmn := s.Consumers[2]
	fmn.Times = fmn.Times[:2]
	want := Consumer{
		Name: "FMNConsumer", Module: "mhub_consumers", Topics: []string{"org.fedoraproject.prod.*"},
		Initialized: true, Exceptions: Some(0), Backlog: Some(188),
		HeadcountIn: Some(29), HeadcountOut: Some(99),
		Times: fmn.Times, HasTimes: true,
	}
	if d := cmp.Diff(want, fmn); d != "" {
		t.Errorf("FMNConsumer (-want +got):\n%s", d)
	}
	if got := len(s.Consumers[2].Times); got != 99 {
		t.Errorf("FMNConsumer has %d times, want 99", got)
	}
	flaky := s.Consumers[3]
	if d := cmp.Diff([]string{"org.fedoraproject.prod.bodhi.*", "org.fedoraproject.prod.git.receive"}, flaky.Topics); d != "" {
		t.Errorf("list topic: %s", d)
	}
	wantP := []Producer{
		{Name: "MonitoringProducer", Module: "moksha.hub.monitoring", Initialized: true, Exceptions: Some(0), Frequency: Some(5), LastRan: Some(1795516124.0107431)},
		{Name: "HeartbeatProducer", Module: "mhub_consumers", Initialized: true, Exceptions: Some(0), Frequency: Some(2.5), LastRan: Some(1795516121.5114236)},
		{Name: "FlakyProducer", Module: "mhub_consumers", Initialized: true, Exceptions: Some(1), Frequency: Some(2), LastRan: Some(1795516102.0096965)},
		{Name: "LazyProducer", Module: "mhub_consumers", Initialized: true, Exceptions: Some(0), Frequency: Some(60)},
	}
	if d := cmp.Diff(wantP, s.Producers); d != "" {
		t.Errorf("producers (-want +got):\n%s", d)
	}
}

// TestDecodeCases covers what older or odd hubs send. Each case modifies a
// base consumer (or the whole message) and states what decoding gives.
func TestDecodeCases(t *testing.T) {
	const base = `{"name": "C", "module": "m", "topic": "t", "initialized": true, "exceptions": 1, "jsonify": true, "backlog": 2, "headcount_out": 3, "headcount_in": 4, "times": [0.5, 1.5]}`
	baseC := Consumer{Name: "C", Module: "m", Topics: []string{"t"}, Initialized: true, Exceptions: Some(1),
		Backlog: Some(2), HeadcountOut: Some(3), HeadcountIn: Some(4), Times: []float64{0.5, 1.5}, HasTimes: true}
	tests := []struct {
		name     string
		consumer string // replaces the base consumer's JSON when set
		edit     func(string) string
		modify   func(*Consumer)
		skipped  int
	}{
		{name: "base"},
		{
			name: "old moksha without headcounts and times",
			edit: func(s string) string {
				return `{"name": "C", "module": "m", "topic": "t", "initialized": true, "exceptions": 1, "jsonify": true, "backlog": 2}`
			},
			modify: func(c *Consumer) { c.HeadcountIn, c.HeadcountOut, c.Times, c.HasTimes = Opt{}, Opt{}, nil, false },
		},
		{
			name: "uninitialized with null backlog",
			edit: func(s string) string {
				return strings.NewReplacer(`"initialized": true`, `"initialized": false`, `"backlog": 2`, `"backlog": null`).Replace(s)
			},
			modify: func(c *Consumer) { c.Initialized, c.Backlog = false, Opt{} },
		},
		{
			name:   "list topic",
			edit:   func(s string) string { return strings.Replace(s, `"topic": "t"`, `"topic": ["a.*", "b"]`, 1) },
			modify: func(c *Consumer) { c.Topics = []string{"a.*", "b"} },
		},
		{
			name:   "float numbers",
			edit:   func(s string) string { return strings.Replace(s, `"backlog": 2`, `"backlog": 2.0`, 1) },
			modify: func(c *Consumer) {},
		},
		{
			name:   "empty times",
			edit:   func(s string) string { return strings.Replace(s, `[0.5, 1.5]`, `[]`, 1) },
			modify: func(c *Consumer) { c.Times = []float64{} },
		},
		{
			name:   "unknown fields ignored",
			edit:   func(s string) string { return strings.Replace(s, `{"name"`, `{"extra": {"deep": [1, 2]}, "name"`, 1) },
			modify: func(c *Consumer) {},
		},
		{
			name:   "odd name",
			edit:   func(s string) string { return strings.Replace(s, `"C"`, `"a/b \"c\"\u0001 d"`, 1) },
			modify: func(c *Consumer) { c.Name = "a/b \"c\"\x01 d" },
		},
		{name: "negative backlog", edit: func(s string) string { return strings.Replace(s, `"backlog": 2`, `"backlog": -1`, 1) }, skipped: 1},
		{name: "string backlog", edit: func(s string) string { return strings.Replace(s, `"backlog": 2`, `"backlog": "2"`, 1) }, skipped: 1},
		{name: "no name", edit: func(s string) string { return strings.Replace(s, `"name": "C", `, ``, 1) }, skipped: 1},
		{name: "bad topic", edit: func(s string) string { return strings.Replace(s, `"topic": "t"`, `"topic": 7`, 1) }, skipped: 1},
		{name: "negative time", edit: func(s string) string { return strings.Replace(s, `0.5`, `-0.5`, 1) }, skipped: 1},
		{name: "NaN backlog", edit: func(s string) string { return strings.Replace(s, `"backlog": 2`, `"backlog": NaN`, 1) }, skipped: 1},
		{name: "Infinity time", edit: func(s string) string { return strings.Replace(s, `0.5`, `Infinity`, 1) }, skipped: 1},
		{name: "-Infinity count", edit: func(s string) string { return strings.Replace(s, `"exceptions": 1`, `"exceptions": -Infinity`, 1) }, skipped: 1},
		{name: "huge number", edit: func(s string) string { return strings.Replace(s, `"backlog": 2`, `"backlog": 1e400`, 1) }, skipped: 1},
		{name: "count over 2^53", edit: func(s string) string { return strings.Replace(s, `"backlog": 2`, `"backlog": 1e17`, 1) }, skipped: 1},
		{name: "name too long", edit: func(s string) string {
			return strings.Replace(s, `"C"`, `"`+strings.Repeat("n", MaxNameBytes+1)+`"`, 1)
		}, skipped: 1},
		{
			name:   "NaN and Infinity inside strings are text",
			edit:   func(s string) string { return strings.Replace(s, `"C"`, `"NaN \"Infinity\" -Infinity"`, 1) },
			modify: func(c *Consumer) { c.Name = `NaN "Infinity" -Infinity` },
		},
		{
			name: "nesting in an unknown field",
			edit: func(s string) string {
				return strings.Replace(s, `{"name"`, `{"x": `+strings.Repeat("[", 500)+strings.Repeat("]", 500)+`, "name"`, 1)
			},
			modify: func(c *Consumer) {},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			if tt.edit != nil {
				c = tt.edit(c)
			}
			msg := `{"consumers": [` + c + `, ` + base + `], "producers": []}`
			s, err := Decode([]byte(msg), testArrival)
			if err != nil {
				t.Fatal(err)
			}
			if s.Skipped != tt.skipped {
				t.Fatalf("skipped %d (%v), want %d", s.Skipped, s.SkipErr, tt.skipped)
			}
			want := []Consumer{baseC}
			if tt.skipped == 0 {
				first := baseC
				first.Times = append([]float64(nil), baseC.Times...)
				if tt.modify != nil {
					tt.modify(&first)
				}
				want = []Consumer{first, baseC}
			}
			if d := cmp.Diff(want, s.Consumers); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestDecodeProducerNulls(t *testing.T) {
	msg := `{"consumers": [], "producers": [{"name": "P", "module": "m", "initialized": false, "exceptions": 3, "last_ran": null}, {"name": "Q", "exceptions": 0}]}`
	s, err := Decode([]byte(msg), testArrival)
	if err != nil {
		t.Fatal(err)
	}
	want := []Producer{
		{Name: "P", Module: "m", Initialized: false, Exceptions: Some(3)},
		{Name: "Q", Initialized: true, Exceptions: Some(0)},
	}
	if d := cmp.Diff(want, s.Producers); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestDecodeTooManyEntries: entries past MaxEntries are skipped and counted.
func TestDecodeTooManyEntries(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"consumers": [`)
	for i := range MaxEntries + 5 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `{"name": "C%d", "backlog": %d}`, i, i)
	}
	b.WriteString(`], "producers": [{"name": "P"}]}`)
	s, err := Decode([]byte(b.String()), testArrival)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Consumers) != MaxEntries || s.Skipped != 5 || len(s.Producers) != 1 {
		t.Errorf("%d consumers, %d producers, %d skipped (%v)", len(s.Consumers), len(s.Producers), s.Skipped, s.SkipErr)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, msg := range []string{
		``, `null`, `[]`, `{}`, `{"consumers": 5}`, `{"consumers": [`, `not json`, `NaN`,
		`{"consumers": [` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `]}`,
	} {
		if _, err := Decode([]byte(msg), testArrival); err == nil {
			t.Errorf("Decode(%q) succeeded", msg)
		}
	}
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	hostile, _ := filepath.Glob("testdata/hostile/*")
	files = append(files, hostile...)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"consumers": [{"name": "x", "backlog": null, "topic": ["a"]}], "producers": [{"name": "p", "last_ran": null}]}`))
	f.Add([]byte(`{"consumers": [{"name": "NaN\\", "backlog": NaN, "times": [Infinity, -Infinity]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Valid JSON has no bare NaN or Infinity: it must pass unchanged.
		if json.Valid(data) && !bytes.Equal(quoteNonFinite(data), data) {
			t.Fatalf("quoteNonFinite changed valid JSON %q to %q", data, quoteNonFinite(data))
		}
		s, err := Decode(data, testArrival)
		if err != nil {
			return
		}
		for _, c := range s.Consumers {
			for _, o := range []Opt{c.Backlog, c.Exceptions, c.HeadcountIn, c.HeadcountOut} {
				if o.Valid && (o.V < 0 || math.IsNaN(o.V) || o.V > maxCount) {
					t.Fatalf("consumer %q: count %v passed", c.Name, o.V)
				}
			}
			for _, d := range c.Times {
				if d < 0 || math.IsNaN(d) || math.IsInf(d, 0) {
					t.Fatalf("consumer %q: duration %v passed", c.Name, d)
				}
			}
		}
	})
}
