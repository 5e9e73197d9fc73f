package putval

import (
	"errors"
	"fmt"
	"strings"
)

// parsed is a PUTVAL line as collectd reads it.
type parsed struct {
	host, plugin, pluginInstance, typ, typeInstance string
	options                                         map[string]string
	values                                          string
}

// parseString follows collectd's parse_string (src/utils/cmds/parse_option.c):
// a quoted string ends at the next unescaped '"', which must be followed by
// white space or the end, and a backslash escapes the next byte whatever it
// is; an unquoted string runs to the next white space.
func parseString(s string) (field, rest string, err error) {
	s = strings.TrimLeft(s, " \t")
	if s == "" {
		return "", "", errors.New("empty")
	}
	if s[0] != '"' {
		i := strings.IndexAny(s, " \t\n\r\v\f")
		if i < 0 {
			return s, "", nil
		}
		return s[:i], s[i:], nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			i++
			if i == len(s) {
				return "", "", errors.New("backslash at end")
			}
			b.WriteByte(s[i])
		case '"':
			rest := s[i+1:]
			if rest != "" && !strings.ContainsRune(" \t\n\r\v\f", rune(rest[0])) {
				return "", "", errors.New("garbage after closing quote")
			}
			return b.String(), rest, nil
		default:
			b.WriteByte(c)
		}
	}
	return "", "", errors.New("unterminated quoted string")
}

// parseLine parses one PUTVAL line the way collectd's exec plugin does, and
// is stricter where collectd would silently change the identifier: a '/'
// inside a field, a field over MaxField bytes, or a control character.
func parseLine(line string) (parsed, error) {
	rest, ok := strings.CutPrefix(line, "PUTVAL ")
	if !ok {
		return parsed{}, fmt.Errorf("not a PUTVAL line: %q", line)
	}
	ident, rest, err := parseString(rest)
	if err != nil {
		return parsed{}, fmt.Errorf("identifier: %w", err)
	}
	f := strings.Split(ident, "/")
	if len(f) != 3 {
		return parsed{}, fmt.Errorf("identifier %q: %d fields", ident, len(f))
	}
	var p parsed
	p.host = f[0]
	p.plugin, p.pluginInstance, _ = strings.Cut(f[1], "-")
	p.typ, p.typeInstance, _ = strings.Cut(f[2], "-")
	for _, s := range []string{p.host, p.plugin, p.pluginInstance, p.typ, p.typeInstance} {
		if len(s) > MaxField {
			return parsed{}, fmt.Errorf("field %q longer than %d bytes", s, MaxField)
		}
		if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return parsed{}, fmt.Errorf("field %q has a control character", s)
		}
	}
	if p.host == "" || p.plugin == "" || p.typ == "" {
		return parsed{}, fmt.Errorf("identifier %q: empty field", ident)
	}
	p.options = map[string]string{}
	for {
		var tok string
		tok, rest, err = parseString(rest)
		if err != nil {
			return parsed{}, fmt.Errorf("values: %w", err)
		}
		k, v, isOpt := strings.Cut(tok, "=")
		if !isOpt {
			p.values = tok
			break
		}
		p.options[k] = v
	}
	if strings.TrimSpace(rest) != "" {
		return parsed{}, fmt.Errorf("trailing %q", rest)
	}
	return p, nil
}
