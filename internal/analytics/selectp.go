package analytics

import (
	"math/bits"
	"slices"
)

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

// insertionSort sorts a short slice in place.
func insertionSort(a []float64) {
	for i := 1; i < len(a); i++ {
		v := a[i]
		j := i
		for ; j > 0 && a[j-1] > v; j-- {
			a[j] = a[j-1]
		}
		a[j] = v
	}
}

// selectRank reorders a[lo:hi] so that a[k] holds the value it would hold
// if a[lo:hi] were sorted, smaller or equal values before it and larger or
// equal ones after.
//
// It is a quickselect that gives up, and sorts what is left, after twice
// the partitions a random input needs: some inputs (a list in descending
// order, for one) make its pivots bad every time, and quadratic.
func selectRank(a []float64, lo, hi, k int) {
	budget := 2 * bits.Len(uint(hi-lo))
	hi-- // inclusive
	for hi-lo >= 16 {
		if budget--; budget < 0 {
			slices.Sort(a[lo : hi+1])
			return
		}
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
		// Lomuto partition without a branch on the data (a conditional
		// increment), so random data costs no mispredictions: a[lo:i] <
		// pivot, a[i:j] >= pivot.
		i := lo
		for j := lo; j < hi; j++ {
			v := a[j]
			a[j] = a[i]
			a[i] = v
			inc := 0
			if v < pivot {
				inc = 1
			}
			i += inc
		}
		a[i], a[hi] = a[hi], a[i]
		switch {
		case k < i:
			hi = i - 1
			continue
		case k == i:
			return
		}
		if i-lo >= (hi-lo)/8 {
			lo = i + 1
			continue
		}
		// A split this uneven: are many values equal to the pivot? They
		// would make the right side shrink by one at a time; move them
		// next to it.
		m := i + 1
		for j := m; j <= hi; j++ {
			v := a[j]
			a[j] = a[m]
			a[m] = v
			if v == pivot {
				m++
			}
		}
		if k < m {
			return // a[i:m] all equal the pivot
		}
		lo = m
	}
	insertionSort(a[lo : hi+1])
}
