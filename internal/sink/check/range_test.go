package check

import (
	"math"
	"testing"
)

// TestRange checks every boundary of each range form.
func TestRange(t *testing.T) {
	tests := []struct {
		r      string
		alerts []float64
		quiet  []float64
	}{
		{"10", []float64{-0.001, -5, 10.001, 11, math.Inf(1)}, []float64{0, 5, 10}},
		{"10:", []float64{9.999, 0, -1}, []float64{10, 10.5, 1e9}},
		{"~:10", []float64{10.001, 1e9}, []float64{10, 0, -1e9}},
		{"10:20", []float64{9.999, 20.001, 0}, []float64{10, 15, 20}},
		{"@10:20", []float64{10, 15, 20}, []float64{9.999, 20.001, 0}},
		{"0.5:1.5", []float64{0.499, 1.501}, []float64{0.5, 1, 1.5}},
		{"-5:5", []float64{-5.1, 5.1}, []float64{-5, 0, 5}},
		{"@~:0", []float64{0, -3}, []float64{0.1}},
		{"@10", []float64{0, 5, 10}, []float64{-1, 11}},
		{"0", []float64{-1, 0.001}, []float64{0}},
		{":10", []float64{-1, 11}, []float64{0, 10}}, // empty start is 0
	}
	for _, tt := range tests {
		r, err := ParseRange(tt.r)
		if err != nil {
			t.Errorf("ParseRange(%q): %v", tt.r, err)
			continue
		}
		for _, v := range tt.alerts {
			if !r.Alert(v) {
				t.Errorf("range %q: %v does not alert", tt.r, v)
			}
		}
		for _, v := range tt.quiet {
			if r.Alert(v) {
				t.Errorf("range %q: %v alerts", tt.r, v)
			}
		}
		if r.String() != tt.r {
			t.Errorf("range %q prints as %q", tt.r, r.String())
		}
	}
	for _, bad := range []string{"", "@", "abc", "10:5", "1:2:3", "~", "x:10", "10:y", "NaN", "inf", "@@1"} {
		if r, err := ParseRange(bad); err == nil {
			t.Errorf("ParseRange(%q) = %+v, want an error", bad, r)
		}
	}
	if (Range{}).Alert(1e9) || (Range{}).Set() {
		t.Error("an unset range alerts")
	}
}

func TestDescribe(t *testing.T) {
	for in, want := range map[string]string{
		"20000": "above 20000", "10:": "below 10", "~:600": "above 600", "10:20": "outside 10 to 20", "@1:2.5": "between 1 and 2.5",
	} {
		r, _ := ParseRange(in)
		if got := r.Describe(); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
