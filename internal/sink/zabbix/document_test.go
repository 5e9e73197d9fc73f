package zabbix

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// lookup follows a JSONPath of the agent template ($.a.b.c, no more) in
// the document, with the rows' macros put in, as Zabbix's preprocessing
// would.
func lookup(t *testing.T, doc []byte, path string, macros map[string]string) (float64, bool) {
	t.Helper()
	for m, v := range macros {
		path = strings.ReplaceAll(path, m, v)
	}
	if !regexp.MustCompile(`^\$(\.[A-Za-z0-9_]+)+$`).MatchString(path) {
		t.Fatalf("JSONPath %s: not plain names (a name broke it?)", path)
	}
	var at any
	json.Unmarshal(doc, &at)
	for _, step := range strings.Split(path, ".")[1:] {
		m, ok := at.(map[string]any)
		if !ok {
			return 0, false
		}
		if at, ok = m[step]; !ok {
			return 0, false
		}
	}
	f, ok := at.(float64)
	return f, ok
}

// rows returns the document's rows of a discovery rule.
func rows(t *testing.T, doc []byte, rule string) []map[string]string {
	t.Helper()
	var d map[string]json.RawMessage
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, doc)
	}
	var r []map[string]string
	json.Unmarshal(d[rule], &r)
	return r
}

// TestDocument: the agent's document holds every row and value the
// trapper would push, by the template's JSONPaths: counts as totals, a
// name of any characters behind a safe identifier, nothing left of a
// service down or no longer watched.
func TestDocument(t *testing.T) {
	at := time.Unix(1700000000, 0)
	weird := `a "b", c] 'd' $.x`
	snap := func(in float64) report.Batch {
		return report.Batch{Service: "hub", Time: at, Consumers: 2, Subjects: []string{"FMN", weird}, Values: []report.Value{
			{Kind: report.Consumers, V: 2},
			{Kind: report.Backlog, Subject: 0, V: 42}, {Kind: report.HeadcountIn, Subject: 0, V: in},
			{Kind: report.ExpectedWait, Subject: 0, V: 3.5}, {Kind: report.GrowthRate, Subject: 1, V: 0.25},
			{Kind: report.Backlog, Subject: 1, V: 7},
		}}
	}
	d := NewDocument()
	d.Write(report.Update{Snapshots: []report.Batch{snap(25), snap(5)}, Tick: &report.Tick{Time: at, Watched: []string{"hub"},
		Liveness: []report.Batch{{Service: "hub", Values: []report.Value{{Kind: report.HubUp, V: 1}}}},
		Self:     report.Batch{Subjects: []string{"hub"}, Values: []report.Value{{Kind: report.UnchangedPolls, Subject: 0, V: 3}, {Kind: report.Goroutines, V: 12}}}}})
	doc := d.JSON()
	cs := rows(t, doc, "consumers")
	ss := rows(t, doc, "services")
	if len(cs) != 2 || len(ss) != 1 || cs[1]["{#CONSUMER}"] != weird || ss[0]["{#SERVICE}"] != "hub" {
		t.Fatalf("rows %v %v", ss, cs)
	}
	fmn := map[string]string{"{#CID}": cs[0]["{#CID}"], "{#SID}": ss[0]["{#SID}"]}
	other := map[string]string{"{#CID}": cs[1]["{#CID}"]}
	for _, c := range []struct {
		kind   report.Kind
		macros map[string]string
		want   float64
	}{
		{report.Backlog, fmn, 42}, {report.HeadcountIn, fmn, 30}, {report.ExpectedWait, fmn, 3.5},
		{report.GrowthRate, fmn, 0}, // a backlog that does not grow, as the trapper pushes it
		{report.GrowthRate, other, 0.25}, {report.Backlog, other, 7},
		{report.HubUp, fmn, 1}, {report.Consumers, fmn, 2}, {report.UnchangedPolls, fmn, 3}, {report.Goroutines, nil, 12},
	} {
		if got, ok := lookup(t, doc, path(c.kind), c.macros); !ok || got != c.want {
			t.Errorf("%s (%s): %v %v, want %v\n%s", c.kind.Info().Name, path(c.kind), got, ok, c.want, doc)
		}
	}
	if _, ok := lookup(t, doc, path(report.DrainTime), fmn); ok {
		t.Error("a drain time the snapshot did not have")
	}
	// The hub found down: no values of its consumers, their rows kept;
	// the reason said.
	d.Write(report.Update{Tick: &report.Tick{Time: at, Watched: []string{"hub"},
		Liveness: []report.Batch{{Service: "hub", Values: []report.Value{{Kind: report.HubUp, V: 0}}}}},
		Notices: []report.Notice{{Kind: report.HubUp, Severity: report.Failure, Service: "hub", Message: "hub: no snapshot for 30s"}}})
	doc = d.JSON()
	var withReason struct{ Reason map[string]string }
	json.Unmarshal(doc, &withReason)
	if r := withReason.Reason[fmn["{#SID}"]]; r != "hub: no snapshot for 30s" {
		t.Errorf("reason %q, by the path %s", r, strings.ReplaceAll("$.reason.{#SID}", "{#SID}", fmn["{#SID}"]))
	}
	if _, ok := lookup(t, doc, path(report.Backlog), fmn); ok || len(rows(t, doc, "consumers")) != 2 {
		t.Errorf("a hub down: %s", doc)
	}
	if up, ok := lookup(t, doc, path(report.HubUp), fmn); !ok || up != 0 {
		t.Errorf("up %v %v", up, ok)
	}
	// Back, then no longer watched.
	d.Write(report.Update{Snapshots: []report.Batch{snap(1)}})
	if in, _ := lookup(t, d.JSON(), path(report.HeadcountIn), fmn); in != 31 {
		t.Errorf("messages in %v after the hub came back, want 31", in)
	}
	d.Write(report.Update{Tick: &report.Tick{Time: at}})
	if doc := d.JSON(); len(rows(t, doc, "consumers")) != 0 || len(rows(t, doc, "services")) != 0 {
		t.Errorf("a service no longer watched: %s", doc)
	}
	if doc := NewDocument().JSON(); string(doc) != `{"services":[],"consumers":[],"process":{},"service":{},"self":{},"reason":{},"consumer":{}}` {
		t.Errorf("empty: %s", doc)
	}
}

// TestAgentHandler: the document whole with its length (the agent reads
// no chunks), on / only, to GET and HEAD only.
func TestAgentHandler(t *testing.T) {
	d := NewDocument()
	names := make([]string, 300) // a document over net/http's buffer, which it would chunk
	for i := range names {
		names[i] = strings.Repeat("x", i+1)
	}
	d.Write(report.Update{Snapshots: []report.Batch{{Service: "hub", Consumers: len(names), Subjects: names}}})
	srv := httptest.NewServer(Handler(d))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != int64(body.Len()) || len(resp.TransferEncoding) != 0 || !bytes.Equal(body.Bytes(), d.JSON()) {
		t.Errorf("status %d, length %d of %d, encoding %v", resp.StatusCode, resp.ContentLength, body.Len(), resp.TransferEncoding)
	}
	if bytes.ContainsAny(body.Bytes(), "\n") {
		t.Error("a newline in the document: the master item's expression takes the first line after the head")
	}
	for _, c := range []struct {
		method, path string
		want         int
	}{{"GET", "/metrics", 404}, {"POST", "/", 405}, {"HEAD", "/", 200}} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != c.want {
			t.Errorf("%s %s: %v %v", c.method, c.path, resp.StatusCode, err)
		}
	}
}

var updateAgent = update

// TestTemplateAgent: the agent template shipped is the one printed; it
// has the trapper template's keys, macros and triggers (the push's own
// counters aside), every item dependent on the agent's read, by a
// JSONPath of the document.
func TestTemplateAgent(t *testing.T) {
	var a, p bytes.Buffer
	if err := AgentTemplate(&a); err != nil {
		t.Fatal(err)
	}
	Template(&p)
	const shipped = "../../../docs/zabbix/fedmsg-collectd-agent.yaml"
	if *updateAgent {
		os.WriteFile(shipped, a.Bytes(), 0o644)
	}
	if old, err := os.ReadFile(shipped); err != nil || !bytes.Equal(old, a.Bytes()) {
		t.Errorf("%s is not the template printed (go test ./internal/sink/zabbix -update): %v", shipped, err)
	}
	agent, trapper := a.String(), p.String()
	field := func(tpl, name string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`(?m)^\s+`+name+`: '(.*)'$`).FindAllStringSubmatch(tpl, -1) {
			out = append(out, strings.ReplaceAll(strings.ReplaceAll(m[1], "''", "'"), TemplateName+"/", "T/"))
		}
		return out
	}
	agentKeys := strings.Join(field(strings.ReplaceAll(agent, AgentTemplateName+"/", TemplateName+"/"), "key"), "\n") + "\n"
	for _, k := range field(trapper, "key") {
		if k != keyDropped && k != keyFailed && !strings.Contains(agentKeys, k+"\n") {
			t.Errorf("the agent template has no %s", k)
		}
	}
	exprs := strings.Join(field(strings.ReplaceAll(agent, AgentTemplateName+"/", TemplateName+"/"), "expression"), "\n")
	for _, e := range field(trapper, "expression") {
		if !strings.Contains(e, "fedmsg.zabbix.") && !strings.Contains(exprs, e) {
			t.Errorf("the agent template has no trigger %s", e)
		}
	}
	for _, m := range field(trapper, "macro") {
		if !strings.Contains(agent, "macro: '"+m+"'") {
			t.Errorf("the agent template has no macro %s", m)
		}
	}
	if n, d := strings.Count(agent, "type: 'DEPENDENT'"), strings.Count(agent, "master_item:"); n != d || n < 30 || strings.Contains(agent, "TRAP") {
		t.Errorf("%d dependent items, %d with a master item", n, d)
	}
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`uuid: '([0-9a-f]{32})'`).FindAllStringSubmatch(agent+trapper, -1) {
		if seen[m[1]] && m[1] != uuid("group") {
			t.Errorf("uuid %s twice in the two templates", m[1])
		}
		seen[m[1]] = true
	}
}
