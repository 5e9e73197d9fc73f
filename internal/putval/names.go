package putval

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// MaxField is the longest identifier field, in bytes, that collectd keeps
// whole (DATA_MAX_NAME_LEN is 128 including the terminating NUL).
const MaxField = 127

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
// bytes, and unique. The first entry with a given name keeps it; later
// entries with the same (sanitized) name get "_2", "_3", ... in list order,
// skipping suffixed names that another entry already has. The result is
// stable as long as the hub lists its entries in the same order.
func Names(names []string) []string {
	out := make([]string, len(names))
	taken := make(map[string]bool, len(names))
	var dups []int
	for i, n := range names {
		s := fit(Sanitize(n), MaxName)
		if taken[s] {
			dups = append(dups, i)
			continue
		}
		taken[s] = true
		out[i] = s
	}
	for _, i := range dups {
		base := Sanitize(names[i])
		for k := 2; ; k++ {
			s := fit(base+"_"+strconv.Itoa(k), MaxName)
			if !taken[s] {
				taken[s] = true
				out[i] = s
				break
			}
		}
	}
	return out
}

// CheckService reports whether a service name (the plugin field of every
// identifier, such as "fedmsg-hub") is usable: non-empty printable ASCII
// without '/', spaces, quotes or backslashes, and split at its first '-'
// into a plugin and plugin instance of at most MaxField bytes each.
func CheckService(s string) error {
	if s == "" {
		return errors.New("empty service name")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '/' || c == '"' || c == '\\' {
			return fmt.Errorf("service name %q: character %q not allowed (use letters, digits, '-', '_', '.')", s, c)
		}
	}
	if s == report.SelfService {
		return fmt.Errorf("service name %q is the plugin's own (its counters are written under it)", s)
	}
	plugin, inst, _ := strings.Cut(s, "-")
	if plugin == "" {
		return fmt.Errorf("service name %q: must not start with '-'", s)
	}
	if len(plugin) > MaxField || len(inst) > MaxField {
		return fmt.Errorf("service name %q: longer than %d bytes on either side of the first '-'", s, MaxField)
	}
	return nil
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
