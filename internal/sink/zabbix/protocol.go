// Package zabbix is the Zabbix sink: it pushes the values to a Zabbix
// server (or proxy) over the sender protocol, as zabbix_sender does, to
// trapper items of the template this package writes (Template): a
// low-level discovery of the services and of their consumers, an item per
// figure of each, and the program's own health.
package zabbix

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// The header of a message of the Zabbix protocol: "ZBXD", a flags byte,
// then the data length and a reserved length, 4 bytes each, little-endian
// (8 each with flagLarge). With flagCompressed the data is zlib, and the
// reserved length is the data's length unpacked.
const (
	flagProtocol   = 0x01
	flagCompressed = 0x02
	flagLarge      = 0x04
)

// maxAnswer bounds the answer read from a server: a sender's answer is a
// line of text.
const maxAnswer = 64 << 10

// frame returns data as one message of the protocol, uncompressed.
func frame(data []byte) []byte {
	b := make([]byte, 13, 13+len(data))
	copy(b, "ZBXD")
	b[4] = flagProtocol
	binary.LittleEndian.PutUint32(b[5:], uint32(len(data)))
	return append(b, data...)
}

// readFrame reads one message of the protocol from r, its data at most
// max bytes (unpacked): a longer one, a bad header or bad zlib is an
// error, and nothing more than max is read or unpacked.
func readFrame(r io.Reader, max int) ([]byte, error) {
	var h [13]byte
	if _, err := io.ReadFull(r, h[:5]); err != nil {
		return nil, fmt.Errorf("no answer: %w", err)
	}
	if string(h[:4]) != "ZBXD" || h[4]&flagProtocol == 0 {
		return nil, fmt.Errorf("the answer is not of the Zabbix protocol (it starts %q)", h[:5])
	}
	var n, unpacked uint64
	if h[4]&flagLarge != 0 {
		var l [16]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return nil, fmt.Errorf("a truncated header: %w", err)
		}
		n, unpacked = binary.LittleEndian.Uint64(l[:8]), binary.LittleEndian.Uint64(l[8:])
	} else {
		if _, err := io.ReadFull(r, h[5:]); err != nil {
			return nil, fmt.Errorf("a truncated header: %w", err)
		}
		n, unpacked = uint64(binary.LittleEndian.Uint32(h[5:])), uint64(binary.LittleEndian.Uint32(h[9:]))
	}
	if n > uint64(max) || h[4]&flagCompressed != 0 && unpacked > uint64(max) {
		return nil, fmt.Errorf("an answer of %d bytes, over %d", max64(n, unpacked), max)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("a truncated answer: %w", err)
	}
	if h[4]&flagCompressed == 0 {
		return data, nil
	}
	z, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("a compressed answer that is not zlib: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(z, int64(unpacked)+1))
	if err != nil || uint64(len(out)) != unpacked {
		return nil, errors.New("a compressed answer whose length is not the one its header says")
	}
	return out, nil
}

func max64(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// value is one value pushed: a trapper item's key on a host, at a time.
// A number is kept as one (Num, IsNum) and written only into the request.
type value struct {
	Host  string  `json:"host"`
	Key   string  `json:"key"`
	Value string  `json:"value"`
	Clock int64   `json:"clock"`
	NS    int64   `json:"ns"`
	Num   float64 `json:"-"`
	IsNum bool    `json:"-"`
}

// text returns the value as the request says it.
func (v value) text() string {
	if v.IsNum {
		return strconv.FormatFloat(v.Num, 'f', -1, 64)
	}
	return v.Value
}

// request is a sender's request.
type request struct {
	Request string  `json:"request"`
	Data    []value `json:"data"`
	Clock   int64   `json:"clock"`
	NS      int64   `json:"ns"`
}

// answer is what the server says of a request.
type answer struct {
	Response string `json:"response"`
	Info     string `json:"info"`
}

var infoRE = regexp.MustCompile(`processed: (\d+); failed: (\d+); total: (\d+)`)

// parseAnswer reads the server's answer to a request of n values: how
// many it failed (items it does not have, or values it refused).
func parseAnswer(data []byte, n int) (failed int, err error) {
	var a answer
	if err := json.Unmarshal(data, &a); err != nil {
		return 0, fmt.Errorf("an answer that is not JSON: %.80q", data)
	}
	if a.Response != "success" {
		return 0, fmt.Errorf("the server answered %.80q: %.200q", a.Response, a.Info)
	}
	m := infoRE.FindStringSubmatch(a.Info)
	if m == nil {
		return 0, fmt.Errorf("an answer without counts: %.200q", a.Info)
	}
	processed, _ := strconv.Atoi(m[1])
	failed, _ = strconv.Atoi(m[2])
	total, _ := strconv.Atoi(m[3])
	if total != n || processed+failed != total {
		return 0, fmt.Errorf("the server counted %d values of the %d sent (%.200q)", total, n, a.Info)
	}
	return failed, nil
}
