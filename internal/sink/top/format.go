package top

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// count formats a number of messages; "-" for no value.
func count(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// figure formats a rate (messages per second) or busy workers with two
// significant figures or more: 0.12, 19.7, 250.
func figure(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// fit returns s when it fits in w columns, else v in fewer digits with a
// k, M or G suffix (a growth as +12k/s), else a mark that it does not
// fit.
func fit(s string, v float64, w int) string {
	if len(s) <= w {
		return s
	}
	sign, suffix := "", ""
	if strings.HasPrefix(s, "+") {
		sign, suffix = "+", "/s"
	}
	a := math.Abs(v)
	for _, u := range []struct {
		div  float64
		name string
	}{{1e3, "k"}, {1e6, "M"}, {1e9, "G"}} {
		if c := sign + strconv.FormatFloat(a/u.div, 'f', 0, 64) + u.name + suffix; a >= u.div && len(c) <= w {
			return c
		}
	}
	return strings.Repeat("#", w)
}

// duration formats seconds as a person reads them: 0.41s, 12s, 3m04s,
// 2h05m, 3d04h.
func duration(s float64) string {
	switch {
	case math.IsNaN(s):
		return "-"
	case math.IsInf(s, 1):
		return "never"
	case s < 10:
		return strconv.FormatFloat(s, 'f', 2, 64) + "s"
	case s < 60:
		return strconv.FormatFloat(s, 'f', 0, 64) + "s"
	}
	n := int64(math.Round(s))
	switch {
	case n < 3600:
		return fmt.Sprintf("%dm%02ds", n/60, n%60)
	case n < 86400:
		return fmt.Sprintf("%dh%02dm", n/3600, n%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", n/86400, n%86400/3600)
}

var bars = []rune("▁▂▃▄▅▆▇█")

// sparkFloor is the least top of a trend's scale: a backlog of a few
// messages draws low bars, not a spike.
const sparkFloor = 10

// spark draws the values as bars scaled from 0 to their maximum (at least
// sparkFloor); no value is a blank.
func spark(vs []float64) string {
	hi := float64(sparkFloor)
	for _, v := range vs {
		if v > hi {
			hi = v
		}
	}
	var b strings.Builder
	for _, v := range vs {
		switch {
		case math.IsNaN(v):
			b.WriteByte(' ')
		default:
			b.WriteRune(bars[int(math.Round(v/hi*float64(len(bars)-1)))])
		}
	}
	return b.String()
}
