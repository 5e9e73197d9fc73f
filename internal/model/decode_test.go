package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
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
		// Decode tries the fast decoder on the data as it came: what it
		// takes has nothing for quoteNonFinite to change.
		if _, ok := decodeFast(nil, data, testArrival); ok && !bytes.Equal(quoteNonFinite(data), data) {
			t.Fatalf("fast decoder took %q, which has bare non-finite numbers", data)
		}
		// The fast decoder either gives up or agrees with the reference,
		// also with what a Decoder kept of the earlier inputs.
		if fast, ok := decodeFast(fuzzDecoder, quoteNonFinite(data), testArrival); ok {
			ref, err := decodeReference(quoteNonFinite(data), testArrival)
			if err != nil {
				t.Fatalf("fast decoder accepted what the reference rejects (%v): %q", err, data)
			}
			sameSnapshot(t, ref, fast)
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

// fuzzDecoder decodes all of FuzzDecode's inputs in a fuzzing process, so
// that what it keeps between messages is exercised too.
var fuzzDecoder = new(Decoder)

func sameSnapshot(t *testing.T, want, got Snapshot) {
	t.Helper()
	if (want.SkipErr == nil) != (got.SkipErr == nil) || want.SkipErr != nil && want.SkipErr.Error() != got.SkipErr.Error() {
		t.Fatalf("skip error %v, reference %v", got.SkipErr, want.SkipErr)
	}
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(Snapshot{}, "SkipErr")); d != "" {
		t.Fatalf("fast decoder differs from the reference (-reference +fast):\n%s", d)
	}
}

// TestFastDecoder: on every capture and hand-made case the fast path is
// taken and agrees with the reference; on odd but valid input it gives up.
func TestFastDecoder(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, f := range files {
		data, _ := os.ReadFile(f)
		fast, ok := decodeFast(nil, data, testArrival)
		if !ok {
			t.Errorf("%s: fast decoder gave up", f)
			continue
		}
		ref, _ := decodeReference(data, testArrival)
		sameSnapshot(t, ref, fast)
	}
	for _, odd := range []string{
		`{"consumers": [{"name": "a\"b"}]}`,           // escape
		`{"consumers": [{"Name": "a"}]}`,              // case-folded key
		`{"consumers": [{"name": "a", "name": "b"}]}`, // duplicate key
		`{"consumers": [{"name": "a", "backlog": "5"}]}`,
		`{"consumers": [{"name": "a", "backlog": 1e400}]}`,
		`{"consumers": null}`,
		`{"consumers": [], "consumers": []}`,
		`{"consumers": [5]}`,
		`{"consumers": [{"name": "a"}]} x`,
		`{"consumers": [{"name": "a\u00e9"}]}`,
		"{\"consumers\": [{\"name\": \"\xff\"}]}",
	} {
		if _, ok := decodeFast(nil, []byte(odd), testArrival); ok {
			t.Errorf("fast decoder took %q", odd)
		}
		// Decode still handles it, through the reference.
		if _, err := Decode([]byte(odd), testArrival); err != nil && !strings.Contains(odd, "x") && !strings.Contains(odd, "null") {
			t.Errorf("Decode(%q): %v", odd, err)
		}
	}
}

// TestFastNumbers: the fast number parser agrees with strconv on numbers
// written every way a hub writes them.
func TestFastNumbers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var inputs []string
	for range 400000 {
		v := math.Exp(rng.NormFloat64()*8) * float64(1-2*rng.IntN(2))
		inputs = append(inputs,
			strconv.FormatFloat(v, 'g', -1, 64), strconv.FormatFloat(v, 'e', -1, 64),
			strconv.FormatFloat(v, 'f', -1, 64), strconv.FormatFloat(v, 'e', rng.IntN(20), 64),
			strconv.Itoa(rng.IntN(1<<30)))
	}
	inputs = append(inputs, "0", "-0", "0.0", "1e22", "1e23", "9007199254740993", "9007199254740992", "123456789012345678901234",
		"0.000000000000000000001", "0.12345678", "0.1234567", "0.123456789012345678901234567890", "123.45678901234567890",
		"0.00012345678e-3", "10.00000000000000001", "0.99999999999999999999", "1E5", "1e+5", "2.5E-3", "1.7976931348623157e308", "5e-324", "0.1", "0.30000000000000004")
	for _, in := range inputs {
		d := fastDecoder{data: []byte(in)}
		got, ok := d.number()
		want, err := strconv.ParseFloat(in, 64)
		if !ok || err != nil || d.pos != len(in) || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%q: fast %v (%v, read %d), strconv %v (%v)", in, got, ok, d.pos, want, err)
		}
	}
	for _, bad := range []string{"-", "01", "1.", ".5", "1e", "1e+", "+1", "0x10", "1_000", "Inf", "NaN"} {
		d := fastDecoder{data: []byte(bad)}
		if v, ok := d.number(); ok && d.pos == len(bad) {
			t.Errorf("%q parsed as %v", bad, v)
		}
	}
}

// TestPowersOfTen spot-checks the computed table against known entries.
func TestPowersOfTen(t *testing.T) {
	tab := powersOfTen()
	for e, want := range map[int][2]uint64{
		0:    {0, 0x8000000000000000},
		1:    {0, 0xA000000000000000},
		-1:   {0xCCCCCCCCCCCCCCCC, 0xCCCCCCCCCCCCCCCC},
		-348: {0x1732C869CD60E453, 0xFA8FD5A0081C0288},
	} {
		if got := tab[e-powMinExp10]; got != want {
			t.Errorf("10^%d: %#x, want %#x", e, got, want)
		}
	}
}

// TestDecoderKeepsNames: a Decoder returns the same values as Decode, and
// the names it keeps are shared by successive snapshots and bounded.
func TestDecoderKeepsNames(t *testing.T) {
	data, err := os.ReadFile("testdata/ipc-01.json")
	if err != nil {
		t.Fatal(err)
	}
	var dec Decoder
	first, err := dec.Decode(data, testArrival)
	if err != nil {
		t.Fatal(err)
	}
	again, err := dec.Decode(bytes.Clone(data), testArrival)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := Decode(data, testArrival)
	sameSnapshot(t, plain, again)
	if unsafe.StringData(first.Consumers[0].Name) != unsafe.StringData(again.Consumers[0].Name) {
		t.Error("the second snapshot's consumer name is a new string")
	}
	// Per string field, Decode allocates; a Decoder does not.
	kept := testing.AllocsPerRun(10, func() { dec.Decode(data, testArrival) })
	fresh := testing.AllocsPerRun(10, func() { Decode(data, testArrival) })
	if strs := 3*len(plain.Consumers) + 2*len(plain.Producers); kept > fresh-float64(strs) {
		t.Errorf("%v allocations per snapshot with a Decoder, %v without: want at least %d fewer", kept, fresh, strs)
	}
	for i := range 3 * maxInterned {
		name := fmt.Sprintf("consumer %d %s", i, strings.Repeat("x", i%200))
		s, err := dec.Decode([]byte(`{"consumers": [{"name": "`+name+`"}]}`), testArrival)
		if err != nil || s.Consumers[0].Name != name {
			t.Fatalf("%q decoded as %+v, %v", name, s, err)
		}
		if len(dec.strs) > maxInterned || dec.bytes > maxInternedBytes {
			t.Fatalf("after %d names, %d kept in %d bytes", i+1, len(dec.strs), dec.bytes)
		}
	}
}

// TestLimits: times past MaxTimes, topics past MaxTopics and entries past
// MaxEntries are counted, not kept, by both decoders alike; an invalid
// duration past the cap still makes the entry malformed.
func TestLimits(t *testing.T) {
	var tsb, tpb, esb strings.Builder
	for i := range MaxTimes + 500 {
		if i > 0 {
			tsb.WriteString(",")
		}
		tsb.WriteString("0.5")
	}
	for i := range MaxTopics + 10 {
		if i > 0 {
			tpb.WriteString(",")
		}
		fmt.Fprintf(&tpb, `"t%d"`, i)
	}
	for i := range MaxEntries + 7 {
		if i > 0 {
			esb.WriteString(",")
		}
		fmt.Fprintf(&esb, `{"name": "C%d"}`, i)
	}
	for _, tt := range []struct {
		name, msg string
		skipped   int
		check     func(Snapshot) bool
	}{
		{"times", `{"consumers": [{"name": "C", "times": [` + tsb.String() + `]}]}`, 500,
			func(s Snapshot) bool { return len(s.Consumers[0].Times) == MaxTimes && s.Consumers[0].Dropped == 500 }},
		{"topics", `{"consumers": [{"name": "C", "topic": [` + tpb.String() + `]}]}`, 10,
			func(s Snapshot) bool {
				return len(s.Consumers[0].Topics) == MaxTopics && s.Consumers[0].Topics[0] == "t0"
			}},
		{"entries", `{"consumers": [` + esb.String() + `]}`, 7,
			func(s Snapshot) bool { return len(s.Consumers) == MaxEntries }},
		{"bad time past the cap", `{"consumers": [{"name": "C", "times": [` + tsb.String() + `,-1]}, {"name": "D"}]}`, 1,
			func(s Snapshot) bool { return len(s.Consumers) == 1 && s.Consumers[0].Name == "D" }},
	} {
		for _, path := range []string{"fast", "reference"} {
			msg := tt.msg
			if path == "reference" {
				// A NaN elsewhere sends the message to encoding/json.
				msg = strings.Replace(msg, `{"consumers": [`, `{"consumers": [{"name": "N", "backlog": NaN}, `, 1)
			}
			s, err := Decode([]byte(msg), testArrival)
			if err != nil {
				t.Fatalf("%s, %s: %v", tt.name, path, err)
			}
			want := tt.skipped
			ok := tt.check(s)
			if path == "reference" {
				want++ // the NaN entry
				if tt.name == "entries" {
					// It pushed one more entry past the cap.
					want++
					ok = len(s.Consumers) == MaxEntries-1
				}
			}
			if s.Skipped != want || !ok {
				t.Errorf("%s, %s: skipped %d (want %d), %d consumers, %+v", tt.name, path, s.Skipped, want, len(s.Consumers), s.SkipErr)
			}
		}
	}
}
