// Package putval turns the values derived from one hub snapshot into collectd
// plain-text protocol lines (PUTVAL) and writes them, one flushed batch per
// snapshot, to the Exec plugin's stdout. It also holds the identifier rules:
// sanitizing names, keeping them distinct and within collectd's limits.
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
	Value              float64
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

// Write formats b as PUTVAL lines and writes them at once. Values that are
// NaN or infinite are left out: collectd would store them as unknown anyway.
func (w *Writer) Write(b Batch) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Reset()
	if err := Format(&w.buf, b); err != nil {
		return err
	}
	return w.flush(fmt.Sprintf("%d values of %s", len(b.Values), b.Service))
}

// flush writes the buffer in one call, and flushes the destination if it
// buffers. The caller holds w.mu.
func (w *Writer) flush(what string) error {
	if _, err := w.w.Write(w.buf.Bytes()); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	if f, ok := w.w.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}

// MinInterval is the shortest interval written. collectd's rrdtool plugin
// cannot create a file whose step is under one second ("Could not calculate
// RRAs"), so a hub publishing faster is still reported with interval=1.
const MinInterval = time.Second

// Format appends the PUTVAL lines of b to buf. The identifier is always
// quoted; the names in it must have passed Sanitize (Names and Host do that),
// so that the quoting collectd undoes is exactly Go's escaping of '"' and
// '\'. The lines are byte for byte those of collectd.org's format.Putval
// (a test keeps them so), written with strconv's appenders instead of fmt:
// about ten times faster, which matters for hubs with hundreds of consumers.
func Format(buf *bytes.Buffer, b Batch) error {
	plugin, inst, _ := strings.Cut(b.Service, "-")
	// What every line shares: the identifier's start, and the interval and
	// time between the identifier and the value.
	var head, mid [128]byte
	id := append(head[:0], b.Host...)
	id = append(id, '/')
	id = append(id, plugin...)
	if inst != "" {
		id = append(id, '-')
		id = append(id, inst...)
	}
	id = append(id, '/')
	tail := append(mid[:0], " interval="...)
	tail = strconv.AppendFloat(tail, max(b.Interval, MinInterval).Seconds(), 'f', 3, 64)
	tail = append(tail, ' ')
	if b.Time.IsZero() {
		tail = append(tail, 'N')
	} else {
		tail = strconv.AppendFloat(tail, float64(b.Time.UnixNano())/1e9, 'f', 3, 64)
	}
	tail = append(tail, ':')

	var scratch [512]byte
	for _, v := range b.Values {
		if math.IsNaN(v.Value) || math.IsInf(v.Value, 0) {
			continue
		}
		full := append(scratch[:0], id...)
		full = append(full, v.Type...)
		if v.TypeInstance != "" {
			full = append(full, '-')
			full = append(full, v.TypeInstance...)
		}
		line := buf.AvailableBuffer()
		line = append(line, "PUTVAL "...)
		line = appendQuote(line, full)
		line = append(line, tail...)
		line = strconv.AppendFloat(line, v.Value, 'g', 15, 64)
		line = append(line, '\n')
		buf.Write(line)
	}
	return nil
}

// appendQuote appends s quoted as strconv.AppendQuote does. For printable
// ASCII, the usual case, that is only a backslash before '"' and '\',
// done here byte by byte; anything else goes to strconv.
func appendQuote(dst, s []byte) []byte {
	for _, c := range s {
		if c < 0x20 || c > 0x7e {
			return strconv.AppendQuote(dst, unsafe.String(unsafe.SliceData(s), len(s)))
		}
	}
	dst = append(dst, '"')
	for _, c := range s {
		if c == '"' || c == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}
