// Package cli is what the program's commands share on the command line:
// their flag sets, one-line usage errors (collectd logs every stderr line,
// and restarts a plugin that exits, every interval), exit codes and the
// version.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// NewFlags returns the flag set of command name whose usage is head, then
// "Flags:" and the flags.
func NewFlags(name, head string) *flag.FlagSet {
	fs := flag.NewFlagSet("fedmsg-collectd "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), head+"\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses args with fs. Asked for help, it prints the usage to help
// (stdout) and returns flag.ErrHelp; a bad flag is only an error, for
// UsageError to report in one line.
func Parse(fs *flag.FlagSet, args []string, help io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(help)
		fs.Usage()
	}
	return err
}

// UsageError reports a bad command line of command name ("" for run):
// help is ExitOK, anything else one line and ExitUsage.
func UsageError(stderr io.Writer, name string, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if name != "" {
		name += " "
	}
	fmt.Fprintf(stderr, "fedmsg-collectd: %s (run \"fedmsg-collectd %s-h\")\n", Redact(err.Error()), name)
	return ExitUsage
}

// userinfo is the password of a URL's user information, scheme://user:PASSWORD@.
var userinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^/?#@\s:"]*):[^/?#@\s"]*@`)

// Redact hides the passwords of the URLs in a message (the flag package
// quotes a value it refuses whole): scheme://user:xxxxx@.
func Redact(msg string) string {
	return userinfo.ReplaceAllString(msg, "${1}:xxxxx@")
}

// Strings is a repeatable flag of non-empty strings.
type Strings []string

func (n *Strings) String() string { return strings.Join(*n, ",") }

// Set adds a value.
func (n *Strings) Set(s string) error {
	if s == "" {
		return errors.New("empty value")
	}
	*n = append(*n, s)
	return nil
}

// Version is the program's version: the module's, the commit it was
// built from and the Go release.
func Version() string {
	v, rev, dirty := "(devel)", "", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision":
				rev = " " + s.Value
			case s.Key == "vcs.modified" && s.Value == "true":
				dirty = " (modified)"
			}
		}
	}
	return "fedmsg-collectd " + v + rev + dirty + " " + runtime.Version()
}

// ListCommand adds a command to a help text's list: its usage in a column
// of 35 characters (on a line of its own when longer), the lines of its
// summary beside.
func ListCommand(b *strings.Builder, use, summary string) {
	lines := strings.Split(summary, "\n")
	if len(use) > 34 {
		b.WriteString(use + "\n")
		use = ""
	}
	fmt.Fprintf(b, "%-35s%s\n", use, lines[0])
	for _, l := range lines[1:] {
		fmt.Fprintf(b, "%-35s%s\n", "", l)
	}
}
