package main

import (
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const dropIn = "../../collectd.d/fedmsg.conf"

// execLines returns the Exec lines of the drop-in, commented ones included
// (uncommented), with continuation lines joined.
func execLines(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(dropIn)
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`(?m)^\s*#(\s*(Exec "|"--))`).ReplaceAllString(string(data), "$1")
	text = strings.ReplaceAll(text, "\\\n", " ")
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "Exec ") {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestDropInArgs: every Exec line of the drop-in, the commented example
// too, passes the plugin's own flag parsing.
func TestDropInArgs(t *testing.T) {
	lines := execLines(t)
	if len(lines) != 2 {
		t.Fatalf("want the Exec line and its commented alternative, got %q", lines)
	}
	quoted := regexp.MustCompile(`"([^"]*)"`)
	for _, l := range lines {
		var words []string
		for _, m := range quoted.FindAllStringSubmatch(l, -1) {
			words = append(words, m[1])
		}
		if len(words) < 2 || words[1] != "/usr/local/bin/fedmsg-collectd" || strings.HasPrefix(words[0], "root") {
			t.Errorf("Exec line %q: want a non-root user and the installed binary", l)
			continue
		}
		if _, err := parse(words[2:], io.Discard, env(nil), host("h", nil)); err != nil {
			t.Errorf("Exec line %q: %v", l, err)
		}
	}
}

// dropInFor returns the drop-in as shipped, with its active Exec line
// running bin as nobody:nogroup with args added: the end-to-end test runs
// collectd with it, so the shipped snippet is what is tested.
func dropInFor(t *testing.T, bin string, args ...string) string {
	t.Helper()
	data, err := os.ReadFile(dropIn)
	if err != nil {
		t.Fatal(err)
	}
	const shipped = `  Exec "nobody:fedmsg" "/usr/local/bin/fedmsg-collectd"` + "\n"
	if n := strings.Count(string(data), shipped); n != 1 {
		t.Fatalf("drop-in has %d active Exec lines %q, want 1", n, shipped)
	}
	line := `  Exec "nobody:nogroup" ` + strconv.Quote(bin)
	for _, a := range args {
		line += " " + strconv.Quote(a)
	}
	return strings.Replace(string(data), shipped, line+"\n", 1)
}

// thresholdBlock returns the drop-in's commented threshold example,
// uncommented.
func thresholdBlock(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(dropIn)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, "#LoadPlugin threshold")
	if i < 0 {
		t.Fatal("no threshold example in the drop-in")
	}
	var out []string
	for _, l := range strings.Split(text[i:], "\n") {
		if !strings.HasPrefix(l, "#") {
			break
		}
		out = append(out, strings.TrimPrefix(l, "#"))
	}
	return strings.Join(out, "\n") + "\n"
}
