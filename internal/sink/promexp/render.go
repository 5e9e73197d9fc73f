package promexp

import (
	"io"
	"math"
	"strconv"
	"strings"
	"time"
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

// appendSample appends one line: name+suffix{labels extra} value.
func appendSample(b []byte, name, suffix, labels, extra string, v float64) []byte {
	b = append(b, name...)
	b = append(b, suffix...)
	if labels != "" || extra != "" {
		b = append(b, '{')
		b = append(b, labels...)
		b = append(b, extra...)
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = appendFloat(b, v)
	return append(b, '\n')
}

// appendFloat formats v as both formats accept: NaN, +Inf, -Inf, or the
// shortest decimal that reads back as v (strconv's 'g'), the whole
// numbers below a million, most of a scrape's, as integers: the same
// text, four times as fast.
func appendFloat(b []byte, v float64) []byte {
	if i := int64(v); float64(i) == v && i > -1e6 && i < 1e6 && (i != 0 || !math.Signbit(v)) {
		return strconv.AppendInt(b, i, 10)
	}
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

// lineWriter is where lines are written: a scrape's buffer, or the text
// of a segment.
type lineWriter interface {
	io.Writer
	io.StringWriter
	io.ByteWriter
}

// lines writes series to w.
type lines struct {
	w   lineWriter
	num []byte
}

// line writes one series: name+suffix{labels extra} v, in one write.
func (l *lines) line(name, suffix, labels, extra string, v float64) {
	l.num = appendSample(l.num[:0], name, suffix, labels, extra, v)
	l.w.Write(l.num)
}

// hub writes hub h's series of family f; now is the scrape's moment.
func (l *lines) hub(h *hubState, f int, now time.Time) {
	fam := families[f]
	suffix := ""
	if fam.typ == "counter" {
		suffix = "_total"
	}
	switch f {
	case famUp:
		if !math.IsNaN(h.up) {
			l.line(fam.name, "", h.label, "", h.up)
		}
	case famAge:
		if !h.at.IsZero() {
			l.line(fam.name, "", h.label, "", now.Sub(h.at).Seconds())
		}
	case famProcessing:
		for _, x := range h.hists {
			lb := h.labels[x.l]
			x.c.cumulative(func(i int, cum uint64) {
				l.line(fam.name, "_bucket", lb, leLabels[i], float64(cum))
			})
			l.line(fam.name, "_bucket", lb, `,le="+Inf"`, float64(x.c.n))
			l.line(fam.name, "_sum", lb, "", x.c.sum)
			l.line(fam.name, "_count", lb, "", float64(x.c.n))
		}
	case famQueueInfo:
		for _, x := range h.series[f] {
			l.line(fam.name, "", h.labels[x.l], h.types[x.l], x.v)
		}
	default:
		for _, x := range h.series[f] {
			lb := h.label
			if x.l >= 0 {
				lb = h.labels[x.l]
			}
			l.line(fam.name, suffix, lb, "", x.v)
		}
	}
}
