package putval

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// calls records each Write call's lines.
type calls struct{ lines []int }

func (c *calls) Write(p []byte) (int, error) {
	c.lines = append(c.lines, strings.Count(string(p), "\n"))
	return len(p), nil
}

// TestLargeUpdateInPieces: an update of more values than chunkValues
// reaches the writer in several calls of at most chunkValues lines, all
// of its values written once, in order; a small one in one call.
func TestLargeUpdateInPieces(t *testing.T) {
	n := 3*chunkValues + 100
	b := report.Batch{Service: "fedmsg_rabbitmq-default", Time: time.Unix(1796216400, 0), Interval: 10 * time.Second}
	for i := range n {
		b.Subjects = append(b.Subjects, fmt.Sprintf("queue.%05d", i))
		b.Values = append(b.Values, report.Value{Kind: report.Backlog, Subject: i, V: float64(i)})
	}
	small := report.Batch{Service: "fedmsg-hub", Time: b.Time, Interval: 5 * time.Second, Subjects: []string{"C"},
		Values: []report.Value{{Kind: report.Backlog, V: 1}}}
	var c calls
	var whole strings.Builder
	for _, w := range []interface {
		Write([]byte) (int, error)
	}{&c, &whole} {
		if err := NewSink(w, "h").Write(report.Update{Snapshots: []report.Batch{small, b}}); err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	for _, l := range c.lines {
		if l > chunkValues+1 {
			t.Errorf("a write of %d lines, over %d", l, chunkValues)
		}
		total += l
	}
	if len(c.lines) < 4 || total != n+1 {
		t.Errorf("%d writes of %d lines in all, want 4 or more of %d", len(c.lines), total, n+1)
	}
	lines := strings.Split(strings.TrimSuffix(whole.String(), "\n"), "\n")
	if len(lines) != n+1 || !strings.Contains(lines[0], "fedmsg-hub/") {
		t.Fatalf("%d lines, the first %q", len(lines), lines[0])
	}
	for i, l := range lines[1:] {
		if want := fmt.Sprintf("queue_length-queue.%05d_backlog\"", i); !strings.Contains(l, want) {
			t.Fatalf("line %d: %q, want %s", i+1, l, want)
		}
	}
	c = calls{}
	if err := NewSink(&c, "h").Write(report.Update{Snapshots: []report.Batch{small}}); err != nil || len(c.lines) != 1 {
		t.Errorf("a small update: %d writes, %v", len(c.lines), err)
	}
}
