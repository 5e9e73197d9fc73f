package report

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// Distinct is the one rule that keeps the names of a service's consumers
// and producers apart in every sink: names maps, in the hub's order, to
// fit(clean(name)); the first entry with a given name keeps it, and each
// later one gets fit(clean(name)+"_2"), "_3", ..., skipping names another
// entry already has. clean makes a name valid in the sink; fit cuts it to
// the sink's limit (nil: no limit). The result is stable as long as the
// hub lists its entries in the same order.
func Distinct(names []string, clean, fit func(string) string) []string {
	if fit == nil {
		fit = func(s string) string { return s }
	}
	out := make([]string, len(names))
	taken := make(map[string]bool, len(names))
	var dups []int
	for i, n := range names {
		s := fit(clean(n))
		if taken[s] {
			dups = append(dups, i)
			continue
		}
		taken[s] = true
		out[i] = s
	}
	for _, i := range dups {
		// A fit that cuts the suffix off could collide for ever: at
		// most len(names) tries, then the name is shared.
		for k := 2; ; k++ {
			s := fit(clean(names[i]) + "_" + strconv.Itoa(k))
			if !taken[s] || k > len(names) {
				taken[s] = true
				out[i] = s
				break
			}
		}
	}
	return out
}

// MaxName is the longest consumer or producer name, in bytes, that Names
// returns. It leaves room in a type instance for the longest suffix this
// program appends (such as "_last_ran_age"), so the whole field stays within
// model.MaxServiceField, collectd's longest.
const MaxName = model.MaxServiceField - 24

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

// Fit shortens s to at most max bytes. A shortened name keeps its start, cut
// at a character boundary, and ends in "~" and a hash of the whole of s, so
// two long names that share a prefix stay distinct.
func Fit(s string, max int) string {
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

// FieldNames maps consumer or producer names, in the order the hub listed them, to
// distinct names fit for an identifier field: sanitized, at most MaxName
// bytes, and unique by Distinct ("_2", "_3", ... for a name listed
// again).
func FieldNames(names []string) []string {
	return Distinct(names, Sanitize, func(s string) string { return Fit(s, MaxName) })
}
