package zabbix

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"unicode/utf8"
)

// TestEncode: the request written by hand reads back as what was sent,
// whatever the strings hold (quotes, backslashes, control characters,
// bytes that are not UTF-8, which read back as U+FFFD as encoding/json
// writes them), as encoding/json's would read back.
func TestEncode(t *testing.T) {
	strs := []string{"", "plain", `a "b", c]`, `back\slash`, "tab\there\nnew\r", "\x00\x01\x1f\x7f", "é ü 日本",
		"bad \xff\xfe utf8", "\u2028\u2029", `<html>&`, "trunc \xe6\x97"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		strs = append(strs, string(b))
	}
	var batch []value
	for i, s := range strs {
		batch = append(batch, value{Host: s, Key: strs[(i+1)%len(strs)], Value: strs[(i+2)%len(strs)], Clock: int64(i) * 1e9, NS: int64(i)})
	}
	got := appendRequest(nil, 1700000000, 123, batch)
	var back request
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	viaJSON, _ := json.Marshal(request{Request: "sender data", Data: batch, Clock: 1700000000, NS: 123})
	var wantBack request
	json.Unmarshal(viaJSON, &wantBack)
	if !reflect.DeepEqual(back, wantBack) {
		t.Errorf("read back differs from encoding/json's")
	}
	for i, s := range strs {
		if j := back.Data[i].Host; utf8.ValidString(s) && j != s {
			t.Errorf("%q read back as %q", s, j)
		}
	}
	// A number kept as one is written as the sink wrote it as a text.
	var num request
	json.Unmarshal(appendRequest(nil, 1, 2, []value{{Host: "h", Key: "k", Num: 1234.5678, IsNum: true}, {Host: "h", Key: "k", Num: -3e-9, IsNum: true}}), &num)
	if len(num.Data) != 2 || num.Data[0].Value != "1234.5678" || num.Data[1].Value != "-0.000000003" {
		t.Errorf("numbers: %+v", num.Data)
	}
	if len(appendRequest(nil, 1, 2)) == 0 || !json.Valid(appendRequest(nil, 1, 2)) {
		t.Error("an empty batch")
	}
}

// BenchmarkEncode: a request of 1000 values, by hand and by
// encoding/json.
func BenchmarkEncode(b *testing.B) {
	batch := make([]value, 1000)
	for i := range batch {
		batch[i] = value{Host: "bus01.example.org", Key: key(0, "fedmsg_rabbitmq-default", "fmn.prod.consumer"), Value: "1234.5678", Clock: 1700000000, NS: 123456789}
	}
	b.Run("append", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf = appendRequest(buf[:0], 1, 2, batch)
		}
	})
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(request{Request: "sender data", Data: batch, Clock: 1, NS: 2})
		}
	})
}
