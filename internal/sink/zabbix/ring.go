package zabbix

// ring holds the values queued, oldest first, at most max of them: adding
// to a full ring drops its oldest. Adding and dropping copy no other value
// (the storage grows by doubling up to max, then wraps).
type ring struct {
	buf   []value
	start int // index of the oldest in buf
	n     int // values held
	max   int
}

// push adds v, and reports whether the oldest value was dropped for it.
func (r *ring) push(v value) (dropped bool) {
	switch {
	case r.n < len(r.buf):
		r.buf[(r.start+r.n)%len(r.buf)] = v
		r.n++
		return false
	case len(r.buf) < r.max:
		// Full storage, but under max: twice the room, the oldest first
		// again.
		grown := make([]value, min(r.max, max(64, 2*len(r.buf))))
		r.copyTo(grown[:r.n])
		r.buf, r.start = grown, 0
		r.buf[r.n] = v
		r.n++
		return false
	}
	r.buf[r.start] = v
	r.start = (r.start + 1) % len(r.buf)
	return true
}

// copyTo copies the oldest len(dst) values to dst.
func (r *ring) copyTo(dst []value) {
	first := copy(dst, r.buf[r.start:min(len(r.buf), r.start+len(dst))])
	copy(dst[first:], r.buf[:len(dst)-first])
}

// segments returns the oldest n values (all, if fewer) as the two parts
// of the storage that hold them, oldest first; no copy, so valid only
// until the ring changes.
func (r *ring) segments(n int) (a, b []value) {
	n = min(n, r.n)
	a = r.buf[r.start:min(len(r.buf), r.start+n)]
	return a, r.buf[:n-len(a)]
}

// pop removes the oldest k values.
func (r *ring) pop(k int) {
	k = min(k, r.n)
	for i := range k {
		r.buf[(r.start+i)%len(r.buf)] = value{} // let go of their strings
	}
	if r.n -= k; r.n == 0 {
		r.start = 0
	} else {
		r.start = (r.start + k) % len(r.buf)
	}
}

// len returns how many values are held.
func (r *ring) len() int { return r.n }
