// Package capture records monitoring messages with their arrival times as
// JSON lines, and reads them back, together with plain snapshots as a hub
// sends them, for replay through the plugin's decode-derive-write path.
package capture

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/hubmon"
)

// Record is one line of a capture file.
type Record struct {
	Service  string    `json:"service"`
	Endpoint string    `json:"endpoint"`
	Arrival  time.Time `json:"arrival"`
	// Period is the publish period measured when it arrived, in seconds.
	Period  float64 `json:"period"`
	Session int64   `json:"session"`
	// Message is the message as received when it is JSON; Text holds it
	// otherwise (garbage, or NaN as Python writes it), so that a capture
	// keeps what made the plugin complain.
	Message json.RawMessage `json:"message,omitempty"`
	Text    *string         `json:"text,omitempty"`
}

// Writer appends records to an io.Writer, one JSON object per line. It is
// safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	w   *bufio.Writer
	n   int
	err error
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriter(w)} }

// Add records one message of ep and flushes it.
func (cw *Writer) Add(ep hubmon.Endpoint, m hubmon.Message) error {
	r := Record{Service: ep.Service, Endpoint: ep.Addr, Arrival: m.Arrival, Period: m.Period.Seconds(), Session: m.Session}
	if json.Valid(m.Raw) {
		r.Message = m.Raw
	} else {
		t := string(m.Raw)
		r.Text = &t
	}
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	cw.mu.Lock()
	defer cw.mu.Unlock()
	if cw.err != nil {
		return cw.err
	}
	cw.w.Write(line)
	cw.w.WriteByte('\n')
	if cw.err = cw.w.Flush(); cw.err == nil {
		cw.n++
	}
	return cw.err
}

// Count returns how many records were written.
func (cw *Writer) Count() int {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	return cw.n
}

// Item is one message to replay: a recorded one, or a plain snapshot given
// the service, time and period that Read was told.
type Item struct {
	Line    int // 1-based line of the input (1 for a single document)
	Service string
	Message hubmon.Message
}

// Defaults apply to plain snapshots, which carry no service or time.
type Defaults struct {
	Service string
	// Start is the arrival time of the first plain snapshot; the next ones
	// follow every Period.
	Start  time.Time
	Period time.Duration
}

// Read parses a capture file or plain snapshots: the whole input as one
// JSON document, or one document per line (blank lines are skipped). A
// line that is a capture record replays as recorded; any other line is a
// message as a hub sends it. Lines that are not JSON at all are returned
// too, as messages, so that replay reports them as the plugin would.
func Read(data []byte, d Defaults) []Item {
	// One document per line, unless the first line alone is not JSON:
	// then the input is one (pretty-printed) document, or garbage.
	docs := bytes.Split(data, []byte("\n"))
	first, _, _ := bytes.Cut(bytes.TrimLeft(data, " \t\r\n"), []byte("\n"))
	if !json.Valid(first) && json.Valid(data) {
		docs = [][]byte{data}
	}
	var items []Item
	plain := 0
	for i, doc := range docs {
		doc = bytes.TrimSpace(doc)
		if len(doc) == 0 {
			continue
		}
		if r, ok := asRecord(doc); ok {
			raw := []byte(r.Message)
			if r.Text != nil {
				raw = []byte(*r.Text)
			}
			items = append(items, Item{Line: i + 1, Service: r.Service, Message: hubmon.Message{
				Raw: raw, Arrival: r.Arrival, Period: time.Duration(r.Period * float64(time.Second)), Session: r.Session,
			}})
			continue
		}
		items = append(items, Item{Line: i + 1, Service: d.Service, Message: hubmon.Message{
			Raw: doc, Arrival: d.Start.Add(time.Duration(plain) * d.Period), Period: d.Period, Session: 1,
		}})
		plain++
	}
	return items
}

// asRecord reports whether doc is a capture record.
func asRecord(doc []byte) (Record, bool) {
	// A record starts with its service; a snapshot with its lists. Only a
	// document that may be a record is parsed twice.
	if !bytes.Contains(doc, []byte(`"arrival"`)) {
		return Record{}, false
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(doc, &probe) != nil {
		return Record{}, false
	}
	_, hasArrival := probe["arrival"]
	_, hasMessage := probe["message"]
	_, hasText := probe["text"]
	if !hasArrival || !(hasMessage || hasText) {
		return Record{}, false
	}
	var r Record
	if json.Unmarshal(doc, &r) != nil {
		return Record{}, false
	}
	return r, true
}
