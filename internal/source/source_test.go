package source

import (
	"flag"
	"io"
	"strings"
	"testing"
)

// TestExclude: --exclude is checked as a regular expression, given to the
// pipeline, and added to --rabbitmq-queues-exclude so that the broker's
// source reads past what either matches.
func TestExclude(t *testing.T) {
	parse := func(args ...string) (*Flags, error) {
		var f Flags
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f.Register(fs)
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		return &f, f.Check()
	}
	if _, err := parse("--exclude", "amq.gen-("); err == nil || !strings.Contains(err.Error(), "--exclude") {
		t.Errorf("a bad --exclude: %v", err)
	}
	f, err := parse("--exclude", `^amq\.gen-`, "--rabbitmq-queues-exclude", "^tmp")
	if err != nil {
		t.Fatal(err)
	}
	if re := f.Excluded(); re == nil || !re.MatchString("amq.gen-x") || re.MatchString("fmn") {
		t.Errorf("the pipeline's pattern: %v", re)
	}
	f.excludeQueues()
	f.excludeQueues() // once only
	if f.Brokers.Exclude != `(?:^tmp)|(?:^amq\.gen-)` {
		t.Errorf("the broker's pattern: %q", f.Brokers.Exclude)
	}
	f, _ = parse("--exclude", "x")
	if f.excludeQueues(); f.Brokers.Exclude != "x" {
		t.Errorf("the broker's pattern: %q, want x", f.Brokers.Exclude)
	}
	if f, _ = parse(); f.Excluded() != nil {
		t.Errorf("no --exclude: %v", f.Excluded())
	}
}
