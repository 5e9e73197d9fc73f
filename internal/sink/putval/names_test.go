package putval

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"FedoraBadgesConsumer": "FedoraBadgesConsumer",
		"":                     "unnamed",
		"a/b":                  "a_b",
		"tab\there":            "tab_here",
		"nl\nx\x7f":            "nl_x_",
		`Foo "Bar" Baz`:        `Foo "Bar" Baz`,
		`back\slash`:           `back\slash`,
		"café-ü":               "café-ü",
		"bad\xffutf8":          "bad_utf8",
		"zero\u200bwidth":      "zero_width",
		"a:b-c.d":              "a:b-c.d",
		"json\ufffdmade":       "json_made", // encoding/json's replacement for invalid UTF-8
	} {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNames(t *testing.T) {
	long := strings.Repeat("x", 200)
	tests := []struct {
		in, want []string
	}{
		{[]string{"A", "B"}, []string{"A", "B"}},
		{[]string{"A", "A", "A"}, []string{"A", "A_2", "A_3"}},
		// A real "A_2" keeps its name; the duplicate takes the next free.
		{[]string{"A", "A", "A_2"}, []string{"A", "A_3", "A_2"}},
		// Names that sanitize alike are duplicates too.
		{[]string{"a/b", "a_b"}, []string{"a_b", "a_b_2"}},
		{[]string{"", ""}, []string{"unnamed", "unnamed_2"}},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, Names(tt.in)); d != "" {
			t.Errorf("Names(%q) (-want +got):\n%s", tt.in, d)
		}
	}
	got := Names([]string{long, long + "y", long, strings.Repeat("é", 100)})
	seen := map[string]bool{}
	for _, n := range got {
		if len(n) > MaxName || !utf8.ValidString(n) || seen[n] {
			t.Errorf("long name %q: %d bytes, valid %v, repeated %v", n, len(n), utf8.ValidString(n), seen[n])
		}
		seen[n] = true
		if !strings.HasPrefix(n, "xxxxxxxx") && !strings.HasPrefix(n, "éééé") {
			t.Errorf("long name %q lost its start", n)
		}
	}
	// Stable: the same input gives the same names.
	if d := cmp.Diff(got, Names([]string{long, long + "y", long, strings.Repeat("é", 100)})); d != "" {
		t.Errorf("not stable: %s", d)
	}
}

// suffixes are the type instance suffixes this program appends.
var suffixes = []string{"_backlog", "_exceptions", "_last_ran_age"}

// FuzzNames checks that any names, once through Names and the writer, come
// out as lines collectd parses back to exactly the intended fields.
func FuzzNames(f *testing.F) {
	// Seeds: the names in the captures of a real hub and the odd-names
	// snapshot, in pairs.
	files, _ := filepath.Glob("../../model/testdata/*.json")
	files = append(files, "../../derive/testdata/odd-names.json")
	var names []string
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var snap struct{ Consumers, Producers []struct{ Name string } }
		if err := json.Unmarshal(data, &snap); err != nil {
			f.Fatalf("%s: %v", file, err)
		}
		for _, e := range append(snap.Consumers, snap.Producers...) {
			names = append(names, e.Name)
		}
	}
	if len(names) < 10 {
		f.Fatalf("only %d seed names", len(names))
	}
	for i := 1; i < len(names); i++ {
		f.Add(names[i-1], names[i], "myhost")
	}
	f.Add("FedoraBadgesConsumer", "FMNConsumer", "host")
	f.Add(`Foo "Bar"`, "a/b\\c", "my host")
	f.Add("same", "same", "h/x")
	f.Add(strings.Repeat("ü", 80), "\x00\xff", "")
	f.Fuzz(func(t *testing.T, a, b, host string) {
		names := Names([]string{a, b})
		if names[0] == names[1] {
			t.Fatalf("Names(%q, %q) gave one name %q twice", a, b, names[0])
		}
		batch := Batch{Host: Host(host), Service: "fedmsg-hub", Time: time.Unix(1795516100, 0), Interval: 5 * time.Second}
		for _, n := range names {
			for _, s := range suffixes {
				batch.Values = append(batch.Values, Value{Type: "gauge", TypeInstance: n + s, Value: 1})
			}
		}
		var buf bytes.Buffer
		if err := Format(&buf, batch); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		if len(lines) != len(batch.Values) {
			t.Fatalf("%d lines for %d values", len(lines), len(batch.Values))
		}
		for i, line := range lines {
			p, err := parseLine(line)
			if err != nil {
				t.Fatalf("collectd would reject or alter %q: %v", line, err)
			}
			v := batch.Values[i]
			if p.host != batch.Host || p.plugin != "fedmsg" || p.pluginInstance != "hub" || p.typ != v.Type || p.typeInstance != v.TypeInstance {
				t.Fatalf("%q parsed as %+v, want type instance %q", line, p, v.TypeInstance)
			}
		}
	})
}
