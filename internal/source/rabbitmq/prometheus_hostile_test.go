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
		{"unclosed label", `rabbitmq_detailed_queue_consumers{vhost="/",queue="q} 1` + "\n", "", 1},
		{"no value", `rabbitmq_detailed_queue_consumers{` + "\n", "", 1},
		{"no value after the labels", `rabbitmq_detailed_queue_consumers{vhost="/",queue="q"}` + "\n", "", 1},
		{"no labels", "rabbitmq_detailed_queue_consumers 3\n", "", 1},
		{"not a number", `rabbitmq_detailed_queue_consumers{vhost="/",queue="q"} many` + "\n", "", 1},
		{"a bad time stamp", `rabbitmq_detailed_queue_consumers{vhost="/",queue="q"} 1 soon` + "\n", "", 1},
		{"three fields", `rabbitmq_detailed_queue_consumers{vhost="/",queue="q"} 1 2 3` + "\n", "", 1},
		{"invalid UTF-8 in a label", "rabbitmq_detailed_queue_consumers{vhost=\"/\",queue=\"q\xff\"} 1\n", "", 1},
		{"a duplicate", `rabbitmq_detailed_queue_consumers{vhost="/",queue="q"} 1` + "\n" + `rabbitmq_detailed_queue_consumers{vhost="/",queue="q"} 2` + "\n", "", 1},
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
// is left out of that answer and counted; the other queues are read.
func TestValueTurnsBad(t *testing.T) {
	c := &seriesCache{}
	line := `rabbitmq_detailed_queue_consumers{vhost="/",queue="q"} `
	other := `rabbitmq_detailed_queue_consumers{vhost="/",queue="r"} 4` + "\n"
	if _, err := decodeExposition(strings.NewReader(line+"1\n"+other+build), 1000, nil, c, perChannel, true); err != nil {
		t.Fatal(err)
	}
	e, err := decodeExposition(strings.NewReader(line+"0x1p-2garbage\n"+other+build), 1000, nil, c, perChannel, true)
	if err != nil || e.bad != 1 || e.queues[qkey{"/", "q"}] != nil || e.queues[qkey{"/", "r"}] == nil || e.queues[qkey{"/", "r"}].consumers.v != 4 {
		t.Errorf("error %v, %d left out, queues %v", err, e.bad, e.queues)
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
	// The attacks of a hostile node: a series twice, time stamps, a label
	// that is not UTF-8.
	f.Add("rabbitmq_detailed_queue_messages_ready{vhost=\"/\",queue=\"q\"} 1\nrabbitmq_detailed_queue_messages_ready{vhost=\"/\",queue=\"q\"} 2\n" + build)
	f.Add("rabbitmq_detailed_queue_messages_ready{vhost=\"/\",queue=\"q } 1\"} 3 1796601732793\n" + build)
	f.Add("rabbitmq_detailed_queue_messages_ready{vhost=\"/\",queue=\"\xff\"} 1\n" + build)
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
	e, err := decodeExposition(strings.NewReader(b.String()), 40010*maxLinesPerQueue, nil, nil, perChannel, true)
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

// TestHostileNodeSeries: a node's answer with every line of a queue given
// twice counts each once (the first copy; a second copy with another
// value would otherwise count a reset every poll); samples with a time
// stamp are read by their value; a queue whose name is not UTF-8 costs
// only its own series, the other queue is reported.
func TestHostileNodeSeries(t *testing.T) {
	twice := func(body string) string {
		var out strings.Builder
		for _, l := range strings.SplitAfter(body, "\n") {
			out.WriteString(l)
			if strings.Contains(l, `queue="q"`) {
				out.WriteString(strings.Replace(l, "} ", "} 1", 1)) // the same series, another value
			}
		}
		return out.String()
	}
	bad := "rabbitmq_detailed_queue_messages_ready{vhost=\"/\",queue=\"\xff\"} 9\n"
	for _, tc := range []struct {
		name string
		f    func(string) string
	}{
		{"every line twice", twice},
		{"time stamps", func(b string) string { return strings.ReplaceAll(b, "\n", " 1796601732793\n") }},
		{"a queue not UTF-8", func(b string) string { return bad + b }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &broker{body: tc.f(expo(5, map[string]float64{"<0.1.0>": 100}, map[string]float64{"<0.3.0>": 70}))}
			s := promSource(t, b)
			if _, err := poll(t, s); err != nil {
				t.Fatal(err)
			}
			b.set(http.StatusOK, tc.f(expo(7, map[string]float64{"<0.1.0>": 120}, map[string]float64{"<0.3.0>": 88})))
			snaps, err := poll(t, s)
			if err != nil {
				t.Fatal(err)
			}
			c := consumerOf(t, snaps, "mq-default", "q")
			if c.HeadcountIn.V != 20 || c.HeadcountOut.V != 18 || c.Backlog.V > 1000 {
				t.Errorf("in %v out %v backlog %v: want 20, 18 and about 7", c.HeadcountIn.V, c.HeadcountOut.V, c.Backlog.V)
			}
		})
	}
}

// TestFailedAnswerLeavesNothing: an answer that fails after many new
// series (more lines than the queues watched can need) leaves the cache
// as the last good answer left it, at its size; the next good answer's
// counters go on from the last good one.
func TestFailedAnswerLeavesNothing(t *testing.T) {
	c := &seriesCache{}
	good := func(in float64) string {
		return fmt.Sprintf("rabbitmq_detailed_queue_messages_ready{vhost=\"/\",queue=\"q\"} 1\n"+
			"rabbitmq_detailed_queue_messages_published_total{channel=\"<0.1.0>\",queue_vhost=\"/\",queue=\"q\",exchange_vhost=\"/\",exchange=\"\"} %v\n", in) + build
	}
	if _, err := decodeExposition(strings.NewReader(good(10)), 5000, nil, c, perChannel, true); err != nil {
		t.Fatal(err)
	}
	series, queues := len(c.byID), len(c.byName)
	var flood strings.Builder
	for i := range 6000 {
		fmt.Fprintf(&flood, "rabbitmq_detailed_channel_messages_delivered_ack_total{channel=\"<0.%d.0>\",vhost=\"/\",queue=\"q\"} 1\n", i)
	}
	if _, err := decodeExposition(strings.NewReader(flood.String()+build), 5000, nil, c, perChannel, true); !errors.Is(err, errLines) {
		t.Fatalf("error %v, want errLines", err)
	}
	if len(c.byID) != series || len(c.byName) != queues || len(c.series) > 2*series || len(c.queues) > 2*queues {
		t.Errorf("after the failed answer: %d series (%d kept), %d queues (%d kept); want %d and %d", len(c.byID), len(c.series), len(c.byName), len(c.queues), series, queues)
	}
	e, err := decodeExposition(strings.NewReader(good(15)), 5000, nil, c, perChannel, true)
	if err != nil || e.queues[qkey{"/", "q"}] == nil || e.queues[qkey{"/", "q"}].in != 5 {
		t.Errorf("the next good answer: %v, %+v", err, e.queues[qkey{"/", "q"}])
	}
}
