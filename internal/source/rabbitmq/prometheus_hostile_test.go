package rabbitmq

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// TestHostileExpositions: answers no node gives. Each is an error of the
// poll or a sample left out and counted; none crashes or is held whole.
func TestHostileExpositions(t *testing.T) {
	for _, tc := range []struct {
		name, body, err string
		bad             int
	}{
		{"JSON", `[{"name":"q"}]`, "not the Prometheus text format", 0},
		{"HTML", "<html><body>login</body></html>", "not the Prometheus text format", 0},
		{"unclosed label", `rabbitmq_detailed_queue_consumers{vhost="/",queue="q} 1` + "\n", "not the Prometheus text format", 0},
		{"no value", `rabbitmq_detailed_queue_consumers{` + "\n", "a sample without a value", 0},
		{"no labels", "rabbitmq_detailed_queue_consumers 3\n", "", 1},
		{"not a number", `rabbitmq_detailed_queue_consumers{vhost="/",queue="q"} many` + "\n", "not the Prometheus text format", 0},
		{"another exporter's", "# TYPE node_load1 gauge\nnode_load1 0.5\n", "no rabbitmq_build_info", 0},
		{"endless lines", strings.Repeat("x 1\n", 70000), "more lines than", 0},
		{"long line", strings.Repeat("x", 70<<10) + " 1\n", "a line over 64 KiB", 0},
		{"negative", `rabbitmq_detailed_queue_messages_ready{vhost="/",queue="q"} -3` + "\n", "", 1},
		{"NaN", `rabbitmq_detailed_queue_messages_ready{vhost="/",queue="q"} NaN` + "\n", "", 1},
		{"huge", `rabbitmq_detailed_queue_messages_ready{vhost="/",queue="q"} 1e300` + "\n", "", 1},
		{"no queue", `rabbitmq_detailed_queue_messages_ready{vhost="/"} 3` + "\n", "", 1},
		{"long name", `rabbitmq_detailed_queue_messages_ready{vhost="/",queue="` + strings.Repeat("q", 300) + `"} 3` + "\n", "", 1},
		{"counter NaN", `rabbitmq_detailed_channel_get_total{channel="c",vhost="/",queue="q"} NaN` + "\n", "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if tc.err == "" {
				body += build
			}
			e, err := decodeExposition(strings.NewReader(body), 1000*maxLinesPerQueue, nil, nil, perChannel, true)
			switch {
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("error %v: want one saying %q", err, tc.err)
			case tc.err == "" && err != nil:
				t.Errorf("error %v", err)
			case tc.err == "" && e.bad != tc.bad:
				t.Errorf("%d samples left out, want %d (%v)", e.bad, tc.bad, e.badErr)
			}
		})
	}
}

// build is the line every node's answer ends with.
const build = `rabbitmq_build_info{rabbitmq_version="3.10.8"} 1` + "\n"

// TestValueTurnsBad: a series parsed before whose value turns to garbage
// fails the answer.
func TestValueTurnsBad(t *testing.T) {
	c := &seriesCache{}
	line := `rabbitmq_detailed_queue_consumers{vhost="/",queue="q"} `
	if _, err := decodeExposition(strings.NewReader(line+"1\n"+build), 1000, nil, c, perChannel, true); err != nil {
		t.Fatal(err)
	}
	if _, err := decodeExposition(strings.NewReader(line+"0x1p-2garbage\n"+build), 1000, nil, c, perChannel, true); err == nil || !strings.Contains(err.Error(), "not the Prometheus text format") {
		t.Errorf("error %v", err)
	}
}

// TestHostileNode: a node's bad answer fails its poll with a clear
// error, and the samples left out of a good one are counted as skipped.
func TestHostileNode(t *testing.T) {
	b := &broker{body: "<html>"}
	s := promSource(t, b)
	if _, err := poll(t, s); err == nil || !strings.Contains(err.Error(), "Prometheus text format") {
		t.Errorf("a page not the format: %v", err)
	}
	b.set(http.StatusOK, expo(3, nil, nil)+`rabbitmq_detailed_queue_messages_ready{vhost="/",queue="bad"} -1`+"\n")
	s.pollOnce(t.Context(), func(m model.Message) {})
	if w := s.Watched(); w[0].Skipped != 1 {
		t.Errorf("skipped %d, want the bad sample", w[0].Skipped)
	}
}

// FuzzExposition: whatever a node answers, the decoder returns an error
// or queues whose names and values are those a broker can have.
func FuzzExposition(f *testing.F) {
	f.Add(expo(3, map[string]float64{"<0.1.0>": 5}, map[string]float64{"<0.2.0>": 4}))
	f.Add("# TYPE rabbitmq_detailed_queue_info gauge\nrabbitmq_detailed_queue_info{vhost=\"/\",queue=\"q\",queue_type=\"rabbit_quorum_queue\",membership=\"leader\"} 1\n" + build)
	f.Add("rabbitmq_detailed_queue_messages_ready{vhost=\"/\",queue=\"q\\\"\\n\"} 1e3\n" + build)
	f.Fuzz(func(t *testing.T, body string) {
		e, err := decodeExposition(strings.NewReader(body), 10000, nil, nil, perChannel, true)
		if err != nil {
			if errors.Is(err, errLines) || strings.Contains(err.Error(), "format") || strings.Contains(err.Error(), "parser") ||
				strings.Contains(err.Error(), "rabbitmq_build_info") {
				return
			}
			t.Fatalf("unexpected error %v", err)
		}
		for k, q := range e.queues {
			if k.name == "" || len(k.name) > maxName || len(k.vhost) > maxName {
				t.Fatalf("queue %q of vhost %q kept", k.name, k.vhost)
			}
			for _, o := range []opt{q.ready, q.unacked, q.consumers, {q.in, true}, {q.out, true}, {q.redeliver, true}} {
				if o.ok && !isCount(&o.v) {
					t.Fatalf("%v kept", o.v)
				}
			}
		}
	})
}

// TestLargeFamily: a family of 40010 queues is read whole.
func TestLargeFamily(t *testing.T) {
	var b strings.Builder
	b.WriteString("# HELP rabbitmq_detailed_queue_messages_ready Ready\n# TYPE rabbitmq_detailed_queue_messages_ready gauge\n")
	for i := range 40010 {
		fmt.Fprintf(&b, "rabbitmq_detailed_queue_messages_ready{vhost=\"/\",queue=\"q%d\"} %d\n", i, i)
	}
	b.WriteString("# TYPE rabbitmq_build_info untyped\nrabbitmq_build_info{rabbitmq_version=\"3.10.8\"} 1")
	e, err := decodeExposition(strings.NewReader(b.String()), 1<<20, nil, nil, perChannel, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.queues) != 40010 || e.bad != 0 || e.major != 3 {
		t.Errorf("%d queues, %d bad, major %d", len(e.queues), e.bad, e.major)
	}
	if q := e.queues[qkey{"/", "q30000"}]; q == nil || q.ready.v != 30000 {
		t.Errorf("q30000: %+v", q)
	}
}
