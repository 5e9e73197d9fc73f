package promexp

import (
	"math"
	"strconv"
	"strings"
)

// validUTF8 makes a name a valid label value.
func validUTF8(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// label returns key="value" with the value escaped as the text formats
// want: backslash, double quote and newline.
func label(key, value string) string {
	return string(appendLabel(nil, key, value))
}

func appendLabel(b []byte, key, value string) []byte {
	b = append(b, key...)
	b = append(b, '=', '"')
	for _, r := range validUTF8(value) {
		switch r {
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, string(r)...)
		}
	}
	return append(b, '"')
}

// appendSample appends one line: name+suffix{labels} value.
func appendSample(b []byte, name, suffix, labels string, v float64) []byte {
	b = append(b, name...)
	b = append(b, suffix...)
	if labels != "" {
		b = append(b, '{')
		b = append(b, labels...)
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = appendFloat(b, v)
	return append(b, '\n')
}

// appendFloat formats v as both formats accept: NaN, +Inf, -Inf, or the
// shortest decimal that reads back as v.
func appendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}
