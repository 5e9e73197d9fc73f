package report

import "strconv"

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
