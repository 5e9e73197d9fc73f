package report_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// newKind is what adding a figure takes, as edits of a copy of the tree:
// a gauge and a Delta kind per consumer, each in the catalogue and in each
// sink's table of names (or its list of kinds left out), nowhere else.
var newKind = []struct{ file, after, insert string }{
	{"internal/report/report.go", "InService // messages delivered and not yet acknowledged\n",
		"\tThrowaway\n\tThrowawayCount\n"},
	{"internal/report/catalogue.go", "InService: {\"unacked\"",
		"\tThrowaway: {\"throwaway\", \"seconds\", Entry, Gauge, \"A figure made up by a test.\"},\n" +
			"\tThrowawayCount: {\"throwaway_events\", \"\", Entry, Delta, \"Events made up by a test, since the previous snapshot.\"},\n"},
	{"internal/sink/putval/table.go", "\tswitch k {\n",
		"\tcase report.Throwaway:\n\t\treturn ident{\"duration\", \"_throwaway\", 1}\n\tcase report.ThrowawayCount:\n\t\treturn ident{\"gauge\", \"_throwaway_events\", 1}\n"},
	{"internal/sink/promexp/names.go", "\tfamSkippedSockets\n", "\tfamThrowaway\n\tfamThrowawayCount\n"},
	{"internal/sink/promexp/names.go", "\tfamSkippedSockets: ",
		"\tfamThrowaway: {\"fedmsg_consumer_throwaway_seconds\", \"A figure made up by a test.\", \"gauge\", byConsumer, report.Throwaway},\n" +
			"\tfamThrowawayCount: {\"fedmsg_consumer_throwaway_events\", \"Events made up by a test.\", \"counter\", byConsumer, report.ThrowawayCount},\n"},
	{"internal/sink/netdata/netdata.go", "var consumerCharts = []chart{\n",
		"\t{\"throwaway\", \"Throwaway\", \"seconds\", \"fedmsg.consumer_throwaway\", \"line\", 8,\n" +
			"\t\t[]dim{{\"throwaway\", report.Throwaway, \"absolute\", 1, 1}}},\n"},
	// Left out: a counter's chart is made for every consumer, which
	// changes what the Netdata tests count; Exceptions is the Delta kind
	// charted there.
	{"internal/sink/netdata/netdata.go", "\tcase report.Consumers, report.Producers, report.Uninitialized,", "\tcase report.ThrowawayCount:\n\t\treturn true\n"},
	{"internal/sink/top/top.go", "\tcase report.HeadcountIn, report.HeadcountOut,", "\tcase report.Throwaway, report.ThrowawayCount:\n\t\treturn true\n"},
}

// TestNewKindIntegration adds two kinds to a copy of the tree, as newKind
// says, regenerates the Zabbix template (its keys come from the
// catalogue), and runs the tests of the report and of every sink: each
// sink's coverage test and its test that every kind it names reaches its
// output. It fails if a sink needs any other edit for a new figure.
func TestNewKindIntegration(t *testing.T) {
	t.Parallel()
	testhub.Integration(t)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	files, err := exec.Command("git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	dir := t.TempDir()
	for _, f := range strings.Fields(string(files)) {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue // deleted in the work tree
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	touched := map[string]bool{}
	for _, e := range newKind {
		p := filepath.Join(dir, e.file)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		i := strings.Index(s, e.after)
		if i < 0 {
			t.Fatalf("%s has no %q to add the new kind after", e.file, e.after)
		}
		if e.after[len(e.after)-1] != '\n' {
			i = strings.LastIndex(s[:i], "\n") // the line before it
		} else {
			i += len(e.after) - 1
		}
		s = s[:i+1] + e.insert + s[i+1:]
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		touched[e.file] = true
	}
	gotest := func(args ...string) {
		t.Helper()
		cmd := exec.Command("go", append([]string{"test", "-count=1"}, args...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go test %s, with the new kinds: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// The templates the Zabbix sink prints (TestTemplate, TestTemplateAgent)
	// are made from the catalogue.
	gotest("-run", "TestTemplate", "./internal/sink/zabbix", "-update")
	gotest("-short", "./internal/report/...", "./internal/sink/...", "./internal/derive/...", "./internal/pipeline/...")
	t.Logf("a new gauge and a new Delta kind touched %d files of code, and the generated Zabbix template: %v", len(touched), keys(touched))
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
