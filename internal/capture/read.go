package capture

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// Item is one message to replay: a recorded one, or a plain snapshot given
// the service, time and period that the Reader was told.
type Item struct {
	Line    int // 1-based line of the input (1 for a single document)
	Message model.Message
}

// Defaults apply to plain snapshots, which carry no service or time.
type Defaults struct {
	Service string
	// Start is the arrival time of the first plain snapshot; the next ones
	// follow every Period.
	Start  time.Time
	Period time.Duration
}

// Limits of the Reader: a line longer than MaxLine is an error that ends the
// input; a pretty-printed single document may be up to MaxDocument bytes.
const (
	MaxLine     = 256 << 20 // a record of a message of --max-message 4MiB, escaped, fits
	MaxDocument = 64 << 20
)

// Reader reads a capture file or plain snapshots, one item at a time, so
// that memory does not grow with the input: one document per line (blank
// lines skipped), or the whole input as one (pretty-printed) document. A
// line that is a capture record replays as recorded; any other line is a
// message as a hub sends it. Lines that are not JSON at all are returned
// too, as messages, so that replay reports them as the plugin would.
type Reader struct {
	d       Defaults
	maxLine int
	r       *bufio.Reader
	line    int
	plain   int
	long    []byte // a line longer than the bufio buffer
	whole   []byte // the single document, until returned
	first   bool   // the first line has not been looked at
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader, d Defaults) *Reader {
	return &Reader{d: d, maxLine: MaxLine, r: bufio.NewReaderSize(r, 1<<20), first: true}
}

// Line returns the line of the item Next returned last.
func (rd *Reader) Line() int { return rd.line }

// Next returns the next item, or io.EOF after the last. The item's Raw
// bytes are valid until the following call.
func (rd *Reader) Next() (Item, error) {
	if rd.whole != nil {
		doc := rd.whole
		rd.whole, rd.line = nil, 1
		return rd.item(doc), nil
	}
	for {
		line, err := rd.readLine()
		if len(line) == 0 && err != nil {
			return Item{}, err
		}
		rd.line++
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if rd.first {
			rd.first = false
			if !json.Valid(line) && err == nil {
				if err := rd.single(line); err != nil {
					return Item{}, err
				}
				return rd.Next() // the document, or the first line again
			}
		}
		return rd.item(line), nil
	}
}

// single is called with the first line when it alone is not JSON: if the
// whole input (up to MaxDocument) is one document, it keeps it for Next to
// return; if not, reading goes on from the first line again.
func (rd *Reader) single(first []byte) error {
	start := rd.line
	all := append([]byte(nil), first...)
	all = append(all, '\n')
	rest, err := io.ReadAll(io.LimitReader(rd.r, MaxDocument+1-int64(len(all))))
	if err != nil {
		return err
	}
	all = append(all, rest...)
	if len(all) <= MaxDocument && json.Valid(all) {
		rd.whole = bytes.TrimSpace(all)
		return nil
	}
	// Lines, then: the first one again, then what follows.
	rd.r = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(all), rd.r), 1<<20)
	rd.line = start - 1
	return nil
}

// readLine returns the next line without its newline.
func (rd *Reader) readLine() ([]byte, error) {
	line, err := rd.r.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return line, err
	}
	rd.long = append(rd.long[:0], line...)
	for errors.Is(err, bufio.ErrBufferFull) {
		if len(rd.long) > rd.maxLine {
			return nil, fmt.Errorf("line %d: longer than %d bytes", rd.line+1, rd.maxLine)
		}
		line, err = rd.r.ReadSlice('\n')
		rd.long = append(rd.long, line...)
	}
	return rd.long, err
}

// item makes an Item of one document.
func (rd *Reader) item(doc []byte) Item {
	if m, ok := asRecord(doc); ok {
		return Item{Line: rd.line, Message: m}
	}
	it := Item{Line: rd.line, Message: model.Message{
		Endpoint: model.Endpoint{Service: rd.d.Service},
		Raw:      doc, Arrival: rd.d.Start.Add(time.Duration(rd.plain) * rd.d.Period), Period: rd.d.Period, Session: 1,
	}}
	rd.plain++
	return it
}

// asRecord reports whether doc is a capture record, and returns its message.
func asRecord(doc []byte) (model.Message, bool) {
	// A record has its arrival; a snapshot has its lists. Only a document
	// that may be a record is parsed as one.
	if !bytes.Contains(doc, []byte(`"arrival"`)) {
		return model.Message{}, false
	}
	var probe struct {
		Record
		Message *json.RawMessage `json:"message"`
	}
	if json.Unmarshal(doc, &probe) != nil {
		return model.Message{}, false
	}
	r := probe.Record
	var raw []byte
	switch {
	case probe.Message != nil:
		raw = *probe.Message
	case r.Text != nil:
		raw = []byte(*r.Text)
	default:
		return model.Message{}, false
	}
	return model.Message{
		Endpoint: model.Endpoint{Service: r.Service, Addr: r.Endpoint},
		Raw:      raw, Arrival: r.Arrival, Period: time.Duration(r.Period * float64(time.Second)), Session: r.Session,
	}, true
}
