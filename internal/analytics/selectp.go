package analytics

// percentiles returns the 50th, 95th and 99th percentiles of ts as
// Percentile does on the sorted values, without sorting: quickselect puts
// each rank the interpolation needs in place, in O(n). buf is reused
// scratch space; ts is not modified.
func percentiles(ts []float64, buf *[]float64) [3]float64 {
	n := len(ts)
	if n == 0 {
		return [3]float64{}
	}
	a := append((*buf)[:0], ts...)
	*buf = a
	var out [3]float64
	from := 0 // ranks below from are in place already
	for i, p := range [3]float64{50, 95, 99} {
		r := p / 100 * float64(n-1)
		lo := int(r)
		hi := min(lo+1, n-1)
		if lo >= from {
			selectRank(a, from, n, lo)
			from = lo + 1
		}
		// The next rank up is the smallest value above lo: a scan, no
		// reordering needed.
		next := a[lo]
		if hi > lo {
			next = a[lo+1]
			for _, v := range a[lo+2:] {
				next = min(next, v)
			}
		}
		out[i] = a[lo] + (r-float64(lo))*(next-a[lo])
	}
	return out
}

// selectRank reorders a[lo:hi] so that a[k] holds the value it would hold
// if a[lo:hi] were sorted, smaller or equal values before it and larger or
// equal ones after.
func selectRank(a []float64, lo, hi, k int) {
	hi-- // inclusive
	for lo < hi {
		// Median of three as pivot, moved to a[hi].
		mid := lo + (hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[mid] < a[hi] {
			a[mid], a[hi] = a[hi], a[mid]
		}
		pivot := a[hi]
		// Three-way partition: < pivot, == pivot, > pivot.
		lt, i, gt := lo, lo, hi
		for i <= gt {
			switch {
			case a[i] < pivot:
				a[lt], a[i] = a[i], a[lt]
				lt++
				i++
			case a[i] > pivot:
				a[i], a[gt] = a[gt], a[i]
				gt--
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt - 1
		case k > gt:
			lo = gt + 1
		default:
			return
		}
	}
}
