package promexp

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"io"
	"time"
)

// A gzipped scrape is spliced: each hub's series of each family are
// compressed when its snapshot is taken in (a segment), and a scrape
// writes those segments as they are between what it compresses itself
// (the headers, the Go runtime's series, the snapshots' age, the
// exporter's own, a hub not packed). Compressing the whole text at each
// scrape was two thirds of a 10-hub scrape's time; a segment costs it a
// copy.
//
// Packing a hub costs more than compressing its text at a scrape (a
// block's codes for each family: 0.4 ms a hub of 50 consumers), so it is
// done only for the snapshots a scrape will read: while gzipped scrapes
// come, for a hub's latest snapshot before the next one is due (the
// latest's start plus the time since the one before), not for those
// that a newer one will replace first. Unscraped, nothing is packed;
// scraped every 15 s, about two snapshots of five. A scrape earlier than
// due compresses the hubs it finds unpacked itself, as all were once.
//
// A segment is raw deflate ending in a sync flush, so byte-aligned and
// not final, from a compressor reset before it: it refers to nothing
// before it, and segments and the scrape's own compressed pieces follow
// one another as one deflate stream. The gzip trailer's CRC-32 is each
// piece's combined (crc32Combine).

// segment is a piece of text, compressed: its deflate blocks, and the
// CRC-32 and length of the text.
type segment struct {
	z   []byte
	crc uint32
	n   int64
}

// packer compresses hubs' series into segments; from Write's one
// goroutine.
type packer struct {
	text, z bytes.Buffer
	lens    [numFamilies]int
}

// packWanted says whether a hub's snapshot, whose next comes in period,
// is worth packing: a gzipped scrape came within gzipWatch, and the next
// one is due before the hub's next snapshot, give or take a second.
func (s *Sink) packWanted(period time.Duration) bool {
	s.mu.Lock()
	at, every := s.gzipAt, s.gzipEvery
	s.mu.Unlock()
	now := s.now()
	if at.IsZero() || now.Sub(at) > gzipWatch {
		return false
	}
	return period <= 0 || at.Add(every).Sub(now) < period+time.Second
}

// gzipWatch is how long after a gzipped scrape hubs are packed for the
// next.
const gzipWatch = 10 * time.Minute

// gzipScraped notes a gzipped scrape's start.
func (s *Sink) gzipScraped() {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.gzipAt.IsZero() && now.After(s.gzipAt) {
		s.gzipEvery = now.Sub(s.gzipAt)
	}
	s.gzipAt = now
}

// spliced says whether family f is spliced from segments: all but those
// that change between snapshots.
func spliced(f int) bool { return f != famUp && f != famAge }

// pack makes h's segments: every spliced family's series, written as a
// scrape writes them, compressed; all in one array.
func (p *packer) pack(h *hubState, fw *flate.Writer) {
	h.packed = true
	p.z.Reset()
	var crcs [numFamilies]uint32
	var ns [numFamilies]int64
	l := lines{}
	for f := range numFamilies {
		start := p.z.Len()
		p.lens[f] = 0
		if !spliced(f) {
			continue
		}
		p.text.Reset()
		l.w = &p.text
		l.hub(h, f, time.Time{})
		if p.text.Len() == 0 {
			continue
		}
		fw.Reset(&p.z)
		fw.Write(p.text.Bytes())
		fw.Flush()
		crcs[f], ns[f] = crc32.ChecksumIEEE(p.text.Bytes()), int64(p.text.Len())
		p.lens[f] = p.z.Len() - start
	}
	all := bytes.Clone(p.z.Bytes())
	at := 0
	h.gz = [numFamilies]segment{}
	for f, n := range p.lens {
		if n > 0 {
			h.gz[f] = segment{all[at : at+n : at+n], crcs[f], ns[f]}
			at += n
		}
	}
}

// splicer writes a gzip stream onto out: what is written to it is
// compressed there, and segments are put in as they are.
type splicer struct {
	out   io.Writer
	fw    *flate.Writer
	crc   uint32
	n     int64
	dirty bool // text written since fw last flushed
	stale bool // segments put in since fw was last reset
	begun bool // the header written
	err   error
}

// gzipHeader is a gzip member's header: deflate, no name, no time, from
// an unknown system (as compress/gzip writes it).
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}

// newSplicer returns a gzip stream onto out, compressing with fw; its
// header is written with what comes first (an HTTP answer's headers are
// set until then).
func newSplicer(out io.Writer, fw *flate.Writer) *splicer {
	fw.Reset(out)
	return &splicer{out: out, fw: fw}
}

// begin writes the header, once.
func (z *splicer) begin() {
	if !z.begun && z.err == nil {
		z.begun = true
		_, z.err = z.out.Write(gzipHeader)
	}
}

// Write compresses p.
func (z *splicer) Write(p []byte) (int, error) {
	z.begin()
	if z.err != nil || len(p) == 0 {
		return 0, z.err
	}
	if z.stale {
		// The compressor's window is text the segments since came after.
		z.fw.Reset(z.out)
		z.stale = false
	}
	z.crc = crc32.Update(z.crc, crc32.IEEETable, p)
	z.n += int64(len(p))
	z.dirty = true
	if _, z.err = z.fw.Write(p); z.err != nil {
		return 0, z.err
	}
	return len(p), nil
}

// splice puts a segment in.
func (z *splicer) splice(s segment) error {
	z.begin()
	if z.err != nil || s.n == 0 {
		return z.err
	}
	if z.dirty {
		if z.err = z.fw.Flush(); z.err != nil {
			return z.err
		}
		z.dirty = false
	}
	z.stale = true
	if _, z.err = z.out.Write(s.z); z.err != nil {
		return z.err
	}
	z.crc = crc32Combine(z.crc, s.crc, s.n)
	z.n += s.n
	return nil
}

// Close ends the stream: an empty final block, the CRC and the length.
func (z *splicer) Close() error {
	z.begin()
	if z.err != nil {
		return z.err
	}
	if z.dirty {
		if z.err = z.fw.Flush(); z.err != nil {
			return z.err
		}
	}
	var end [10]byte
	end[0], end[1] = 3, 0 // a final block of fixed codes holding only its end
	binary.LittleEndian.PutUint32(end[2:], z.crc)
	binary.LittleEndian.PutUint32(end[6:], uint32(z.n))
	_, z.err = z.out.Write(end[:])
	return z.err
}
