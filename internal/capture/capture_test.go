package capture

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

var (
	t0   = time.Unix(1795516100, 250e6).UTC()
	hub  = model.Endpoint{Service: "fedmsg-hub", Addr: "ipc:///var/run/fedmsg/monitoring-fedmsg-hub.socket"}
	defs = Defaults{Service: "plain-hub", Start: t0, Period: 5 * time.Second}
)

// readAll reads every item of r, with Raw copied.
func readAll(t *testing.T, r io.Reader) []Item {
	t.Helper()
	rd := NewReader(r, defs)
	var items []Item
	for {
		it, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return items
		}
		if err != nil {
			t.Fatal(err)
		}
		it.Message.Raw = bytes.Clone(it.Message.Raw)
		items = append(items, it)
	}
}

// TestRoundTrip: what the Writer records, the Reader gives back: JSON
// messages, garbage (as text), a message with NaN, a large one.
func TestRoundTrip(t *testing.T) {
	large := `{"consumers": [{"name": "C", "times": [` + strings.Repeat("0.125, ", 300000) + `1]}], "producers": []}`
	msgs := []model.Message{
		{Endpoint: hub, Raw: []byte(`{"consumers": [], "producers": []}`), Arrival: t0, Period: 0, Session: 1},
		{Endpoint: hub, Raw: []byte("garbage\x00\xff"), Arrival: t0.Add(5 * time.Second), Period: 5 * time.Second, Session: 1},
		{Endpoint: hub, Raw: []byte(`{"consumers": [{"backlog": NaN}]}`), Arrival: t0.Add(10 * time.Second), Period: 5 * time.Second, Session: 2},
		{Endpoint: model.Endpoint{Service: "fedmsg-relay", Addr: "tcp://h:3000"}, Raw: []byte(large), Arrival: t0.Add(11 * time.Second), Period: 4900 * time.Millisecond, Session: 7},
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, m := range msgs {
		if err := w.Add(m); err != nil {
			t.Fatal(err)
		}
	}
	if w.Count() != len(msgs) || strings.Count(buf.String(), "\n") != len(msgs) {
		t.Fatalf("count %d, %d lines, want %d", w.Count(), strings.Count(buf.String(), "\n"), len(msgs))
	}
	items := readAll(t, iotest.HalfReader(&buf))
	var got []model.Message
	for i, it := range items {
		if it.Line != i+1 {
			t.Errorf("item %d on line %d", i, it.Line)
		}
		got = append(got, it.Message)
	}
	// JSON is kept compacted; garbage as text, which, not valid UTF-8,
	// reads back with U+FFFD.
	want := append([]model.Message(nil), msgs...)
	for i, m := range want {
		var c bytes.Buffer
		if json.Compact(&c, m.Raw) == nil {
			want[i].Raw = c.Bytes()
		}
	}
	want[1].Raw = []byte("garbage\x00\uFFFD")
	if len(got) != len(want) {
		t.Fatalf("%d messages read, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(want[i].Raw, got[i].Raw) {
			t.Errorf("message %d: %d bytes %.40q..., want %d bytes %.40q...", i, len(got[i].Raw), got[i].Raw, len(want[i].Raw), want[i].Raw)
		}
		want[i].Raw, got[i].Raw = nil, nil
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-recorded +read):\n%s", d)
	}
}

// TestPlainSnapshots: lines that are not records are messages of the
// default service, a period apart; blank lines are skipped and counted.
func TestPlainSnapshots(t *testing.T) {
	in := "{\"consumers\": []}\n\n  \nnot json\n{\"producers\": []}\n"
	items := readAll(t, strings.NewReader(in))
	want := []struct {
		line int
		raw  string
		at   time.Time
	}{{1, `{"consumers": []}`, t0}, {4, "not json", t0.Add(5 * time.Second)}, {5, `{"producers": []}`, t0.Add(10 * time.Second)}}
	if len(items) != len(want) {
		t.Fatalf("%d items, want %d", len(items), len(want))
	}
	for i, w := range want {
		m := items[i].Message
		if items[i].Line != w.line || string(m.Raw) != w.raw || !m.Arrival.Equal(w.at) || m.Endpoint.Service != "plain-hub" || m.Period != 5*time.Second || m.Session != 1 {
			t.Errorf("item %d: line %d %q at %v of %q", i, items[i].Line, m.Raw, m.Arrival, m.Endpoint.Service)
		}
	}
}

// TestOneDocument: a pretty-printed snapshot is one message; a first line
// that is not JSON in a file that is not one document reads as lines.
func TestOneDocument(t *testing.T) {
	doc := "{\n  \"consumers\": [\n    {\"name\": \"C\"}\n  ],\n  \"producers\": []\n}\n"
	items := readAll(t, strings.NewReader("\n"+doc))
	if len(items) != 1 || items[0].Line != 1 || !strings.Contains(string(items[0].Message.Raw), `"name": "C"`) {
		t.Fatalf("pretty-printed document: %+v", items)
	}
	items = readAll(t, strings.NewReader("garbage\n{\"consumers\": []}\n"))
	if len(items) != 2 || items[0].Line != 1 || string(items[0].Message.Raw) != "garbage" || items[1].Line != 2 {
		t.Fatalf("garbage then a line: %+v", items)
	}
}

// TestLongLines: lines longer than the reader's buffer come whole; one
// over MaxLine is an error, not an allocation of whatever size.
func TestLongLines(t *testing.T) {
	long := `{"consumers": [{"name": "` + strings.Repeat("x", 3<<20) + `"}]}`
	items := readAll(t, strings.NewReader(long+"\n"+long))
	if len(items) != 2 || string(items[1].Message.Raw) != long || items[1].Line != 2 {
		t.Fatalf("%d items", len(items))
	}
	rd := NewReader(io.MultiReader(strings.NewReader(`{"consumers": []}`+"\n"), infinite{}), defs)
	rd.maxLine = 8 << 20
	if _, err := rd.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Next(); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("endless line: %v", err)
	}
}

// infinite is an endless line.
type infinite struct{}

func (infinite) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// FuzzReader: any input reads to the end without a panic, and every item's
// message is a line of the input or comes from a record.
func FuzzReader(f *testing.F) {
	f.Add([]byte(`{"service":"s","endpoint":"e","arrival":"2026-12-02T10:00:00Z","period":5,"session":1,"message":{"consumers":[]}}` + "\n"))
	f.Add([]byte("{\n\"consumers\": []\n}"))
	f.Add([]byte("garbage\n\n{}\n"))
	f.Add([]byte(`{"arrival": "x", "text": "y"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := NewReader(bytes.NewReader(data), defs)
		for n := 0; ; n++ {
			it, err := rd.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				return
			}
			if n > len(data) {
				t.Fatalf("%d items from %d bytes", n, len(data))
			}
			if it.Line < 1 {
				t.Fatalf("line %d", it.Line)
			}
		}
	})
}
