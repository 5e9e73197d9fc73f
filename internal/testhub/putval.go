package testhub

import (
	"regexp"
	"strconv"
)

// Putvals returns the time stamps and values of the PUTVAL lines of out
// written for identifier ident (host/plugin/type-instance).
func Putvals(out, ident string) (at, v []float64) {
	re := regexp.MustCompile(regexp.QuoteMeta(ident) + `" interval=\S+ (\S+):(\S+)`)
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		a, _ := strconv.ParseFloat(m[1], 64)
		x, _ := strconv.ParseFloat(m[2], 64)
		at, v = append(at, a), append(v, x)
	}
	return at, v
}
