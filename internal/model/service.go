package model

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// SelfService is the service under which the program reports on itself.
const SelfService = "fedmsg-collectd"

// CheckService is the one rule for a service name, whatever the source
// (a hub's, a broker's, a counters service's): non-empty printable ASCII
// without '/', spaces, quotes or backslashes, not SelfService, and split at
// its first '-' into a plugin and plugin instance of at most
// MaxServiceField bytes each (collectd's identifier fields).
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
	if s == SelfService {
		return fmt.Errorf("service name %q is the plugin's own (its counters are written under it)", s)
	}
	plugin, inst, _ := strings.Cut(s, "-")
	if plugin == "" {
		return fmt.Errorf("service name %q: must not start with '-'", s)
	}
	if len(plugin) > MaxServiceField || len(inst) > MaxServiceField {
		return fmt.Errorf("service name %q: longer than %d bytes on either side of the first '-'", s, MaxServiceField)
	}
	return nil
}

// MaxServiceField is the longest identifier field collectd keeps whole: a
// service (the plugin field and its instance) is cut to it.
const MaxServiceField = 127

// ServiceWord makes s part of a service name: letters, digits and '_'
// (and '-' if dash) are kept, the rest become '_'; a leading '-' too. The
// result is cut so that prefix and it fit MaxServiceField; an empty s is
// "unnamed".
func ServiceWord(prefix, s string, dash bool) string {
	b := []byte(s)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || dash && c == '-'
		if !ok {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return prefix + "unnamed"
	}
	if b[0] == '-' {
		b[0] = '_'
	}
	return prefix + string(b[:min(len(b), max(MaxServiceField-len(prefix), 1))])
}

// NamedURL splits a flag's [NAME=]URL (NAME defaults to def) and reports
// whether URL is an http or https URL with a host (and a port from 1 to
// 65535, when it has one).
func NamedURL(spec, def string) (name, raw string, u *url.URL, ok bool) {
	name, raw = def, spec
	if n, rest, cut := strings.Cut(spec, "="); cut && !strings.Contains(n, "/") {
		name, raw = n, rest
	}
	u, err := url.Parse(raw)
	ok = err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Hostname() != ""
	if ok && u.Port() != "" {
		p, err := strconv.Atoi(u.Port())
		ok = err == nil && p >= 1 && p <= 65535
	}
	return name, raw, u, ok
}
