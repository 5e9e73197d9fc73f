package putval

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// MaxField is the longest identifier field, in bytes, that collectd keeps
// whole (DATA_MAX_NAME_LEN is 128 including the terminating NUL).
const MaxField = model.MaxServiceField

// MaxName is the longest consumer or producer name, in bytes, that Names
// returns. It leaves room in a type instance for the longest suffix this
// program appends (such as "_last_ran_age"), so the whole field stays within
// MaxField.
const MaxName = MaxField - 24

// Sanitize makes a name safe inside a collectd identifier field: '/' (the
// field separator), control characters, other non-printing characters and
// invalid UTF-8 become '_'. Spaces and quotes are kept; the writer quotes
// the identifier when needed. An empty name becomes "unnamed".
func Sanitize(s string) string {
	if s == "" {
		return "unnamed"
	}
	if clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		// Invalid UTF-8, and U+FFFD, which is what encoding/json makes of
		// it in the names it decodes: '_', as the README says.
		if r == '/' || r == utf8.RuneError || !strconv.IsPrint(r) {
			b.WriteByte('_')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// clean reports whether s is plain printable ASCII without '/', the common
// case that needs no copy.
func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '/' {
			return false
		}
	}
	return true
}

// fit shortens s to at most max bytes. A shortened name keeps its start, cut
// at a character boundary, and ends in "~" and a hash of the whole of s, so
// two long names that share a prefix stay distinct.
func fit(s string, max int) string {
	if len(s) <= max {
		return s
	}
	h := fnv.New32a()
	h.Write([]byte(s))
	tag := fmt.Sprintf("~%08x", h.Sum32())
	cut := max - len(tag)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + tag
}

// Names maps consumer or producer names, in the order the hub listed them, to
// distinct names fit for an identifier field: sanitized, at most MaxName
// bytes, and unique by report.Distinct ("_2", "_3", ... for a name listed
// again).
func Names(names []string) []string {
	return report.Distinct(names, Sanitize, func(s string) string { return fit(s, MaxName) })
}

// Host makes a host name safe for the host field: sanitized like a consumer
// name and at most MaxField bytes.
func Host(s string) string {
	return fit(Sanitize(s), MaxField)
}

// HostOf is the host field: the flag's value, else COLLECTD_HOSTNAME, else
// the machine's name; sanitized.
func HostOf(flagValue string, getenv func(string) string, hostname func() (string, error)) (string, error) {
	h := flagValue
	if h == "" {
		h = getenv("COLLECTD_HOSTNAME")
	}
	if h == "" {
		var err error
		if h, err = hostname(); err != nil {
			return "", fmt.Errorf("no --hostname, no COLLECTD_HOSTNAME, and %w", err)
		}
	}
	return Host(h), nil
}
