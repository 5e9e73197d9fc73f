package check

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func num(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func uomText(uom string) string {
	if uom == "" {
		return ""
	}
	return " " + uom
}

// Write prints the result in the plugin output format: "FEDMSG STATUS -
// text | perfdata" on the first line, then the long output. Names from
// the hub cannot break it: a newline or '|' in the text becomes '_'.
func (r Result) Write(w io.Writer) {
	text := r.Summary
	if len(r.Problems) > 0 {
		text = strings.Join(r.Problems, ", ")
	}
	fmt.Fprintf(w, "FEDMSG %s - %s", r.Status, plainText(text))
	if len(r.Perf) > 0 {
		fmt.Fprint(w, " |")
		for _, p := range r.Perf {
			fmt.Fprintf(w, " %s", p)
		}
	}
	fmt.Fprintln(w)
	for _, l := range r.Lines {
		fmt.Fprintln(w, plainText(l))
	}
}

// plainText replaces what would break the output's lines or split its
// performance data: line breaks and '|'.
func plainText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '|' {
			return '_'
		}
		return r
	}, s)
}

// String formats the item as 'label'=value[UOM];warn;crit;min;max, as
// the guidelines ask: the label in single quotes with a quote doubled and
// no '=', '|' or line break; the value finite, or U when it is not.
func (p Perf) String() string {
	label := strings.Map(func(r rune) rune {
		if r == '=' || r == '|' || r == '\n' || r == '\r' {
			return '_'
		}
		return r
	}, p.Label)
	label = "'" + strings.ReplaceAll(label, "'", "''") + "'"
	v := "U" // with no unit
	if rounded := math.Round(p.Value*1000) / 1000; !math.IsInf(rounded, 0) && !math.IsNaN(rounded) {
		v = strconv.FormatFloat(rounded, 'f', -1, 64) + p.UOM
	}
	return fmt.Sprintf("%s=%s;%s;%s;0;", label, v, p.Warn, p.Crit)
}

// Fail is the result of a check that could not read a snapshot.
func Fail(format string, args ...any) Result {
	return Result{Status: Unknown, Problems: []string{fmt.Sprintf(format, args...)}}
}
