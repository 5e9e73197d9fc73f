package check

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// scripted is a polled source that delivers its snapshots of queue hungq
// at once, and takes up and gives a state as a broker does.
type scripted struct {
	at      []float64 // seconds from t0
	backlog []float64
	counts  []bool // whether snapshot i has its counts (in: the backlog's rise; out: 0)
	resumed json.RawMessage
	saved   json.RawMessage // what SaveState gives, when not nil
}

var t0 = time.Unix(1796216400, 0)

func (s *scripted) Run(ctx context.Context, deliver func(model.Message)) {
	for i, at := range s.at {
		c := model.Consumer{Name: "hungq", Initialized: true, Backlog: model.Some(s.backlog[i]), Workers: model.Some(3), InService: model.Some(3)}
		if s.counts[i] {
			prev := 0.0
			if i > 0 {
				prev = s.backlog[i-1]
			}
			c.HeadcountIn, c.HeadcountOut = model.Some(s.backlog[i]-prev), model.Some(0)
		}
		arrival := t0.Add(time.Duration(at * float64(time.Second)))
		deliver(model.Message{Endpoint: model.Endpoint{Service: "fedmsg_rabbitmq-default", Addr: "http://broker#/"}, Arrival: arrival, Period: 5 * time.Second,
			Session: 1, Snapshot: &model.Snapshot{Arrival: arrival, Consumers: []model.Consumer{c}}})
	}
	<-ctx.Done()
}
func (*scripted) Watched() []model.Watched {
	return []model.Watched{{Endpoint: model.Endpoint{Service: "fedmsg_rabbitmq-default", Addr: "http://broker#/"}, Polled: true}}
}
func (s *scripted) SaveState([]string) (json.RawMessage, error) {
	if s.saved != nil {
		return s.saved, nil
	}
	return json.RawMessage(`{"totals":1}`), nil
}
func (s *scripted) ResumeState(raw json.RawMessage) error { s.resumed = raw; return nil }

// TestHistory: NRPE's runs a minute apart of a queue whose consumers take
// nothing. The second run, with the first's snapshots and its source's
// counts kept in the state directory, knows the oldest message has
// waited 64 s and the stall lasted 60 s: CRITICAL past --age-critical
// 60. Without the history it knows neither.
func TestHistory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	spec := Spec{Consumers: []string{"hungq"}, Age: ranges(t, "30", "60"), Wait: ranges(t, "300", "")}
	target := func(s *scripted) Target {
		return Target{Source: s, Service: "fedmsg_rabbitmq-default", Endpoint: "http://broker", Polled: true}
	}
	first := &scripted{at: []float64{0, 5}, backlog: []float64{0, 5}, counts: []bool{false, true}}
	res := ProbeWith(context.Background(), target(first), 5*time.Second, spec, OpenHistory(dir, "http://broker", "", spec.Consumers))
	if res.Status != OK || !strings.Contains(res.Lines[0], "oldest 4 s") {
		t.Errorf("first run: %v %q %q", res.Status, res.Problems, res.Lines)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("state directory: %v, %v", fi, err)
	}
	second := func() *scripted {
		return &scripted{at: []float64{60, 65}, backlog: []float64{65, 70}, counts: []bool{true, true}}
	}
	s := second()
	res = ProbeWith(context.Background(), target(s), 5*time.Second, spec, OpenHistory(dir, "http://broker", "", spec.Consumers))
	if string(s.resumed) != `{"totals":1}` {
		t.Errorf("the source took up %q", s.resumed)
	}
	if res.Status != Critical || !strings.Contains(strings.Join(res.Problems, "\n"), "hungq oldest message's age 64 s (critical") ||
		!strings.Contains(strings.Join(res.Problems, "\n"), "nothing taken for 60 s") {
		t.Errorf("second run, with the first's history: %v %q", res.Status, res.Problems)
	}
	// Without history, as the first run of all (its first snapshot
	// without counts): the stall of 5 s is all it knows, and the oldest
	// message has waited at least that.
	s = second()
	s.counts[0] = false
	res = ProbeWith(context.Background(), target(s), 5*time.Second, spec, OpenHistory("", "http://broker", "", spec.Consumers))
	if res.Status != Warning || !strings.Contains(res.Lines[0], "oldest at least 5 s") {
		t.Errorf("second run without history: %v %q %q", res.Status, res.Problems, res.Lines)
	}
}

// TestHistoryHostile: a state directory another user could write to is
// not used; a state file that is garbage, too big or of another target is
// ignored and replaced.
func TestHistoryHostile(t *testing.T) {
	open := t.TempDir()
	os.Chmod(open, 0o777)
	if h := OpenHistory(open, "e", "s", []string{"q"}); h.path != "" || !strings.Contains(h.Note, "not a directory of this user's alone") {
		t.Errorf("a world-writable directory: %q %q", h.path, h.Note)
	}
	dir := filepath.Join(t.TempDir(), "state")
	h := OpenHistory(dir, "e", "s", []string{"q"})
	if h.path == "" {
		t.Fatalf("no history: %s", h.Note)
	}
	for _, bad := range [][]byte{[]byte("garbage"), make([]byte, maxStateBytes+10),
		[]byte(`{"format":1,"key":"another","messages":[{"service":"s"}]}`)} {
		os.WriteFile(h.path, bad, 0o600)
		if got := OpenHistory(dir, "e", "s", []string{"q"}); len(got.loaded.Messages) != 0 {
			t.Errorf("%.20q: loaded %d messages", bad, len(got.loaded.Messages))
		}
	}
	if err := h.Save(nil, "s", nil); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(h.path); !strings.Contains(string(data), `"format":1`) {
		t.Errorf("not replaced: %.80q", data)
	}
}

// TestHistoryOversizeSource: a source's state that would take the file
// over its bound is left out, not the history with it: the next run has
// the snapshots, and its source nothing to take up.
func TestHistoryOversizeSource(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	spec := Spec{Consumers: []string{"hungq"}, Age: ranges(t, "30", "60")}
	target := Target{Service: "fedmsg_rabbitmq-default", Endpoint: "http://broker", Polled: true}
	first := &scripted{at: []float64{0, 5}, backlog: []float64{0, 5}, counts: []bool{false, true},
		saved: json.RawMessage(`"` + strings.Repeat("x", maxStateBytes) + `"`)}
	target.Source = first
	res := ProbeWith(context.Background(), target, 5*time.Second, spec, OpenHistory(dir, "http://broker", "", spec.Consumers))
	if strings.Contains(strings.Join(res.Lines, "\n"), "history not kept") {
		t.Fatalf("first run: %q", res.Lines)
	}
	h := OpenHistory(dir, "http://broker", "", spec.Consumers)
	if n := len(h.Messages()); n != 2 {
		t.Errorf("%d snapshots kept, want 2", n)
	}
	second := &scripted{at: []float64{60, 65}, backlog: []float64{65, 70}, counts: []bool{true, true}}
	target.Source = second
	ProbeWith(context.Background(), target, 5*time.Second, spec, h)
	if second.resumed != nil {
		t.Errorf("the source took up %d bytes", len(second.resumed))
	}
}
