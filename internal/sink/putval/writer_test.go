package putval

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// countingWriter records each Write call.
type countingWriter struct {
	calls []string
	err   error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.calls = append(c.calls, string(p))
	return len(p), c.err
}

func TestWriterOneWritePerBatch(t *testing.T) {
	cw := &countingWriter{}
	w := NewWriter(cw)
	b := Batch{Host: "h", Service: "fedmsg-hub", Time: time.Unix(100, 0), Interval: 2500 * time.Millisecond, Values: []Value{
		{Type: "gauge", TypeInstance: "A_in", Value: 3},
		{Type: "gauge", TypeInstance: "A_out", Value: math.NaN()},
		{Type: "gauge", TypeInstance: "A_exceptions", Value: math.Inf(1)},
		{Type: "response_time", TypeInstance: "A_avg", Value: 0.125},
	}}
	if err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if len(cw.calls) != 1 {
		t.Fatalf("%d Write calls, want 1", len(cw.calls))
	}
	want := `PUTVAL "h/fedmsg-hub/gauge-A_in" interval=2.500 100.000:3
PUTVAL "h/fedmsg-hub/response_time-A_avg" interval=2.500 100.000:0.125
`
	if cw.calls[0] != want {
		t.Errorf("got\n%s\nwant\n%s", cw.calls[0], want)
	}
	// A sub-second interval is written as the minimum.
	b.Interval, b.Values = 100*time.Millisecond, b.Values[:1]
	cw.calls = nil
	w.Write(b)
	if want := `PUTVAL "h/fedmsg-hub/gauge-A_in" interval=1.000 100.000:3` + "\n"; cw.calls[0] != want {
		t.Errorf("got %q, want %q", cw.calls[0], want)
	}
	// Several batches, one call; none with a value, no call.
	other := Batch{Host: "h", Service: "fedmsg-relay", Time: time.Unix(101, 0), Interval: time.Second,
		Values: []Value{{Type: "gauge", TypeInstance: "B", Suffix: "_in", Value: 4}}}
	cw.calls = nil
	if err := w.Write(b, other); err != nil {
		t.Fatal(err)
	}
	w.Write(Batch{Host: "h", Service: "fedmsg-hub", Values: []Value{{Type: "gauge", Value: math.NaN()}}})
	w.Write()
	want = `PUTVAL "h/fedmsg-hub/gauge-A_in" interval=1.000 100.000:3
PUTVAL "h/fedmsg-relay/gauge-B_in" interval=1.000 101.000:4
`
	if d := cmp.Diff([]string{want}, cw.calls); d != "" {
		t.Errorf("Write calls (-want +got):\n%s", d)
	}
	// A service without '-' is a plugin without instance.
	b.Service, b.Values = "relay", b.Values[:1]
	cw.calls = nil
	w.Write(b)
	if !strings.HasPrefix(cw.calls[0], `PUTVAL "h/relay/gauge-A_in"`) {
		t.Errorf("got %q", cw.calls[0])
	}
}

func TestWriterError(t *testing.T) {
	broken := errors.New("broken pipe")
	w := NewWriter(&countingWriter{err: broken})
	err := w.Write(Batch{Host: "h", Service: "fedmsg-hub", Values: []Value{{Type: "gauge", TypeInstance: "x", Value: 1}}})
	if !errors.Is(err, broken) || !strings.Contains(err.Error(), "fedmsg-hub") {
		t.Errorf("err = %v", err)
	}
}

// parseNotif parses a PUTNOTIF line the way collectd's exec plugin does:
// key=value options, each value a string per parse_string.
func parseNotif(line string) (map[string]string, error) {
	rest, ok := strings.CutPrefix(line, "PUTNOTIF ")
	if !ok {
		return nil, errors.New("not PUTNOTIF")
	}
	opts := map[string]string{}
	for strings.TrimSpace(rest) != "" {
		rest = strings.TrimLeft(rest, " ")
		k, v, ok := strings.Cut(rest, "=")
		if !ok || strings.ContainsAny(k, " \"") {
			return nil, errors.New("malformed option")
		}
		val, r, err := parseString(v)
		if err != nil {
			return nil, err
		}
		opts[k], rest = val, r
	}
	return opts, nil
}

func TestFormatNotification(t *testing.T) {
	var buf bytes.Buffer
	FormatNotification(&buf, Notification{
		Severity: Failure, Time: time.Unix(1795516100, 500e6), Host: "my host", Service: "fedmsg-hub",
		Type: "bool", TypeInstance: "hub_up",
		Message: "fedmsg hub \"fedmsg-hub\": no snapshot\nfor 16s \\ " + strings.Repeat("x", 300),
	})
	line := strings.TrimSuffix(buf.String(), "\n")
	if strings.Contains(line, "\n") {
		t.Fatalf("more than one line: %q", buf.String())
	}
	got, err := parseNotif(line)
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	msg := got["message"]
	delete(got, "message")
	want := map[string]string{"severity": "failure", "time": "1795516100.500", "host": "my host", "plugin": "fedmsg",
		"plugin_instance": "hub", "type": "bool", "type_instance": "hub_up"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if !strings.HasPrefix(msg, `fedmsg hub "fedmsg-hub": no snapshot for 16s \ xxx`) || len(msg) > maxMessage {
		t.Errorf("message %q (%d bytes)", msg, len(msg))
	}
}
