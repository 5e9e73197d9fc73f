package zabbix

import (
	"context"
	"strconv"
	"testing"
)

// TestRing: a ring keeps the newest max values in order, however pushes
// and pops interleave, and drops the oldest when full.
func TestRing(t *testing.T) {
	r := ring{max: 100}
	var want []string // the model: a plain slice
	next := 0
	for step := range 2000 {
		switch step % 7 {
		case 3:
			k := step % 13
			r.pop(k)
			want = want[min(k, len(want)):]
		default:
			v := value{Key: strconv.Itoa(next)}
			next++
			dropped := r.push(v)
			want = append(want, v.Key)
			if len(want) > 100 {
				want = want[1:]
				if !dropped {
					t.Fatalf("step %d: a full ring dropped nothing", step)
				}
			} else if dropped {
				t.Fatalf("step %d: dropped with %d held", step, len(want))
			}
		}
		got := r.oldest(len(want) + 5)
		if len(got) != len(want) || r.len() != len(want) {
			t.Fatalf("step %d: %d values, want %d", step, len(got), len(want))
		}
		for i := range got {
			if got[i].Key != want[i] {
				t.Fatalf("step %d: value %d is %s, want %s", step, i, got[i].Key, want[i])
			}
		}
		// What a request is written from, in place.
		k := step % (len(want) + 5)
		a, b := r.segments(k)
		if seg := append(append([]value(nil), a...), b...); len(seg) != min(k, len(want)) {
			t.Fatalf("step %d: segments of %d hold %d values", step, k, len(seg))
		} else {
			for i := range seg {
				if seg[i].Key != want[i] {
					t.Fatalf("step %d: segment value %d is %s, want %s", step, i, seg[i].Key, want[i])
				}
			}
		}
	}
	if len(r.buf) > 100 {
		t.Errorf("storage of %d values for a ring of 100", len(r.buf))
	}
}

// BenchmarkFullBuffer is the cost of a value added to a full buffer of
// the default size: the sink's cost while the server is away.
func BenchmarkFullBuffer(b *testing.B) {
	s := NewSink("h", 0, Cadence{})
	for i := range DefaultBuffer {
		s.add("k", float64(i), t0)
	}
	b.ResetTimer()
	for i := range b.N {
		s.add("k", float64(i), t0)
	}
}

// BenchmarkServerUp is the cost of a value added while the server takes
// them: the sender takes the queue every 100 values. Beside
// BenchmarkFullBuffer, it says what a server away costs.
func BenchmarkServerUp(b *testing.B) {
	s := NewSink("h", 0, Cadence{})
	for i := range b.N {
		s.add("k", float64(i), t0)
		if i%100 == 99 {
			vs, first := s.take(1000)
			s.done(first, len(vs), 0)
		}
	}
}

// take returns up to n of the oldest values queued, without removing
// them, and the number of the first.
func (s *Sink) take(n int) ([]value, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queue.oldest(n), s.head
}

// oldest returns a copy of the oldest n values (all, if fewer).
func (r *ring) oldest(n int) []value {
	out := make([]value, min(n, r.n))
	r.copyTo(out)
	return out
}

// sendValues makes one request of vs.
func (c *Sender) sendValues(ctx context.Context, vs []value) (int, error) {
	c.buf = appendRequest(make([]byte, 13), 0, 0, vs)
	return c.send(ctx, len(vs))
}
