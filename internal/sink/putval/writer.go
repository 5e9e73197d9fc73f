// Package putval is the collectd sink: it maps the pipeline's neutral values
// (package report) to collectd identifiers with one table of names
// (identOf), and writes them as plain-text protocol lines (PUTVAL,
// PUTNOTIF) to the Exec plugin's stdout, everything of one wake-up in one
// write (or a few, for a broker of thousands of queues). It holds every identifier rule: sanitizing names, keeping them
// distinct and within collectd's limits.
package putval

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Value is one value of a Batch, identified by its collectd type (from the
// stock types.db) and type instance.
type Value struct {
	Type, TypeInstance string
	// Suffix, if not empty, is written after TypeInstance as part of the
	// type instance: the many values of one consumer share its name
	// (TypeInstance "FMNConsumer", Suffix "_backlog") without a string
	// built for each of them in every snapshot.
	Suffix string
	Value  float64
}

// Instance returns the whole type instance: TypeInstance and Suffix.
func (v Value) Instance() string {
	return v.TypeInstance + v.Suffix
}

// Batch is everything written for one snapshot of one hub: the values share
// the host, the service (plugin and plugin instance), the time and the
// interval.
type Batch struct {
	Host string
	// Service, such as "fedmsg-hub", is split by collectd at its first '-'
	// into plugin ("fedmsg") and plugin instance ("hub").
	Service  string
	Time     time.Time
	Interval time.Duration
	Values   []Value
}

// Writer writes batches to an io.Writer. It is safe for concurrent use; each
// batch reaches the underlying writer in a single Write call, so batches of
// different hubs never interleave.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	buf bytes.Buffer
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w}
}

// Write formats the batches as PUTVAL lines and writes them at once, in a
// single Write call on the underlying writer. Values that are NaN or
// infinite are left out: collectd would store them as unknown anyway.
func (w *Writer) Write(bs ...Batch) error {
	return w.WriteAll(bs, nil)
}

// WriteAll formats the batches as PUTVAL lines and then the notifications
// as PUTNOTIF lines, and writes them in a single Write call.
func (w *Writer) WriteAll(bs []Batch, ns []Notification) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Reset()
	n := 0
	for _, b := range bs {
		if err := Format(&w.buf, b); err != nil {
			return err
		}
		n += len(b.Values)
	}
	for _, note := range ns {
		FormatNotification(&w.buf, note)
	}
	if w.buf.Len() == 0 {
		return nil
	}
	err := w.flush()
	if w.buf.Cap() > maxKept && w.buf.Len() < w.buf.Cap()/4 {
		w.buf = bytes.Buffer{} // let an outlier's storage go
	}
	if err != nil {
		what := "nothing"
		switch {
		case len(bs) > 0:
			what = bs[0].Service
		case len(ns) > 0:
			what = "notification for " + ns[0].Service
		}
		if k := len(bs) + len(ns); k > 1 {
			what += fmt.Sprintf(" and %d more", k-1)
		}
		return fmt.Errorf("write %d values of %s: %w", n, what, err)
	}
	return nil
}

// maxKept is how much storage a Writer or Sink keeps between writes after
// one that needed much more than the next.
const maxKept = 1 << 20

// flush writes the buffer in one call; a destination that buffers is
// its owner's to flush. The caller holds w.mu.
func (w *Writer) flush() error {
	_, err := w.w.Write(w.buf.Bytes())
	return err
}

// MinInterval is the shortest interval written. collectd's rrdtool plugin
// cannot create a file whose step is under one second ("Could not calculate
// RRAs"), so a hub publishing faster is still reported with interval=1.
const MinInterval = time.Second

// Format appends the PUTVAL lines of b to buf. The identifier is always
// quoted; the names in it must have passed Sanitize (Names and Host do that),
// so that the quoting collectd undoes is exactly Go's escaping of '"' and
// '\'. The lines are byte for byte those of collectd.org's format.Putval
// (a test keeps them so), written without fmt: what every line of the batch
// shares (the quoted start of the identifier, the interval and the time) is
// formatted once, and each line appends its type, type instance and value.
func Format(buf *bytes.Buffer, b Batch) error {
	plugin, inst, _ := strings.Cut(b.Service, "-")
	var head, mid [256]byte
	// The identifier's start, quoted as far as it goes.
	id := append(head[:0], b.Host...)
	id = append(id, '/')
	id = append(id, plugin...)
	if inst != "" {
		id = append(id, '-')
		id = append(id, inst...)
	}
	id = append(id, '/')
	start := append(mid[:0], `PUTVAL "`...)
	start, plain := appendEscaped(start, id)
	// After the identifier: the closing quote, the interval and the time.
	var after [64]byte
	tail := append(after[:0], `" interval=`...)
	tail = strconv.AppendFloat(tail, max(b.Interval, MinInterval).Seconds(), 'f', 3, 64)
	tail = append(tail, ' ')
	if b.Time.IsZero() {
		tail = append(tail, 'N')
	} else {
		tail = strconv.AppendFloat(tail, float64(b.Time.UnixNano())/1e9, 'f', 3, 64)
	}
	tail = append(tail, ':')

	for _, v := range b.Values {
		if math.IsNaN(v.Value) || math.IsInf(v.Value, 0) {
			continue
		}
		line := buf.AvailableBuffer()
		ok := plain
		if ok {
			line = append(line, start...)
			line, ok = appendEscaped(line, v.Type)
			if ok && (v.TypeInstance != "" || v.Suffix != "") {
				line = append(line, '-')
				line, ok = appendEscaped(line, v.TypeInstance)
				if ok {
					line, ok = appendEscaped(line, v.Suffix)
				}
			}
		}
		if !ok {
			// Something beyond printable ASCII: strconv quotes it.
			line = buf.AvailableBuffer()
			full := append(id[:len(id):len(id)], v.Type...)
			if inst := v.Instance(); inst != "" {
				full = append(full, '-')
				full = append(full, inst...)
			}
			line = append(line, "PUTVAL "...)
			line = strconv.AppendQuote(line, unsafe.String(unsafe.SliceData(full), len(full)))
			line = line[:len(line)-1] // tail has the closing quote
		}
		line = append(line, tail...)
		line = appendValue(line, v.Value)
		line = append(line, '\n')
		buf.Write(line)
	}
	return nil
}

// appendValue appends v as fmt's %.15g does. Counts, the most common
// values, are integers, which strconv.AppendInt writes the same way and
// much faster; most others appendG15 writes in half strconv's time.
func appendValue(dst []byte, v float64) []byte {
	if v == math.Trunc(v) && v > -1e15 && v < 1e15 && (v != 0 || !math.Signbit(v)) {
		return strconv.AppendInt(dst, int64(v), 10)
	}
	return strconv.AppendFloat(dst, v, 'g', 15, 64)
}

// appendEscaped appends s with a backslash before each '"' and '\\', as
// strconv.Quote would inside the quotes, and reports true; if s holds
// anything but printable ASCII it reports false, for strconv to quote.
func appendEscaped[S string | []byte](dst []byte, s S) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return dst, false
		}
		if c == '"' || c == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return dst, true
}
