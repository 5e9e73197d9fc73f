// Package check is the Nagios sink: it takes the snapshots of one hub or
// broker from the pipeline run uses, with the same figures and names, checks
// the newest against Nagios thresholds and formats the result the way the
// Monitoring Plugins development guidelines ask: a status line, performance
// data, long output and exit code.
package check

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Range is a threshold range in the Monitoring Plugins syntax:
//
//	10      alert if the value is < 0 or > 10
//	10:     alert if < 10
//	~:10    alert if > 10
//	10:20   alert if < 10 or > 20
//	@10:20  alert if >= 10 and <= 20 (inside the range)
//
// Bounds may be decimals or negative. The zero Range never alerts.
type Range struct {
	Lo, Hi float64 // -Inf / +Inf for an open side
	Inside bool    // the @ form
	text   string
}

// ParseRange parses a threshold range.
func ParseRange(s string) (Range, error) {
	r := Range{text: s}
	body := s
	if rest, ok := strings.CutPrefix(body, "@"); ok {
		r.Inside, body = true, rest
	}
	if body == "" {
		return Range{}, fmt.Errorf("threshold %q: empty range", s)
	}
	lo, hi, hasColon := strings.Cut(body, ":")
	var err error
	if !hasColon {
		lo, hi = "0", body
	}
	switch lo {
	case "~":
		r.Lo = math.Inf(-1)
	case "":
		r.Lo = 0
	default:
		if r.Lo, err = number(lo); err != nil {
			return Range{}, fmt.Errorf("threshold %q: %w", s, err)
		}
	}
	if hi == "" {
		if !hasColon {
			return Range{}, fmt.Errorf("threshold %q: empty range", s)
		}
		r.Hi = math.Inf(1)
	} else if r.Hi, err = number(hi); err != nil {
		return Range{}, fmt.Errorf("threshold %q: %w", s, err)
	}
	if r.Lo > r.Hi {
		return Range{}, fmt.Errorf("threshold %q: start is above end", s)
	}
	return r, nil
}

// number parses a bound as the guidelines write numbers: an optional sign,
// digits and an optional decimal part. Go's other syntaxes (0x1p4, 1_0,
// 1e3, Inf) are refused: they would be echoed into performance data that
// other tools parse.
func number(s string) (float64, error) {
	digits, dot := 0, false
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		case (c == '-' || c == '+') && i == 0:
		default:
			digits = -1
		}
		if digits < 0 {
			break
		}
	}
	if digits <= 0 {
		return 0, errors.New("not a number: " + strconv.Quote(s))
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, errors.New("not a number: " + strconv.Quote(s))
	}
	return v, nil
}

// Set reports whether the range was given.
func (r Range) Set() bool { return r.text != "" }

// Alert reports whether v raises the alert of this range.
func (r Range) Alert(v float64) bool {
	if !r.Set() {
		return false
	}
	in := v >= r.Lo && v <= r.Hi
	return in == r.Inside
}

// String returns the range as it was given, for performance data.
func (r Range) String() string { return r.text }

// Describe says in words when the range alerts, for status lines.
func (r Range) Describe() string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	switch {
	case r.Inside:
		return fmt.Sprintf("between %s and %s", f(r.Lo), f(r.Hi))
	case math.IsInf(r.Lo, -1):
		return "above " + f(r.Hi)
	case math.IsInf(r.Hi, 1):
		return "below " + f(r.Lo)
	case r.Lo == 0:
		return "above " + f(r.Hi)
	default:
		return fmt.Sprintf("outside %s to %s", f(r.Lo), f(r.Hi))
	}
}

// RangeValue is a flag.Value that parses a Range into R.
type RangeValue struct{ R *Range }

// String implements flag.Value.
func (v RangeValue) String() string {
	if v.R == nil {
		return ""
	}
	return v.R.String()
}

// Set implements flag.Value.
func (v RangeValue) Set(s string) error {
	r, err := ParseRange(s)
	if err != nil {
		return err
	}
	*v.R = r
	return nil
}
