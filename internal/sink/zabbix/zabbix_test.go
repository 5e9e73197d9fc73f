package zabbix

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

var update = flag.Bool("update", false, "rewrite docs/zabbix/fedmsg-collectd.yaml")

// TestTemplate: the template shipped is the one printed; every key the
// sink pushes is an item of it; its UUIDs are unique.
func TestTemplate(t *testing.T) {
	var b bytes.Buffer
	if err := Template(&b); err != nil {
		t.Fatal(err)
	}
	const shipped = "../../../docs/zabbix/fedmsg-collectd.yaml"
	if *update {
		os.WriteFile(shipped, b.Bytes(), 0o644)
	}
	if old, err := os.ReadFile(shipped); err != nil || !bytes.Equal(old, b.Bytes()) {
		t.Errorf("%s is not the template printed (go test ./internal/sink/zabbix -update): %v", shipped, err)
	}
	tpl := b.String()
	for _, k := range report.Kinds() {
		if !pushed(k) {
			continue
		}
		want := "key: '" + strings.ReplaceAll(key(k, "{#SERVICE}", "{#CONSUMER}"), "'", "''") + "'"
		if k.Scope() == report.Process {
			want = "key: '" + key(k, "", "") + "'"
		}
		if !strings.Contains(tpl, want) {
			t.Errorf("the template has no %s", want)
		}
	}
	for _, k := range []string{keyDropped, keyFailed, ServicesDiscovery, ConsumersDiscovery} {
		if !strings.Contains(tpl, "key: '"+k+"'") {
			t.Errorf("the template has no %s", k)
		}
	}
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`uuid: '([0-9a-f]{32})'`).FindAllStringSubmatch(tpl, -1) {
		if seen[m[1]] {
			t.Errorf("uuid %s twice", m[1])
		}
		seen[m[1]] = true
	}
	if len(seen) < 40 {
		t.Errorf("%d uuids", len(seen))
	}
}

// TestKeys: a name with quotes, commas and brackets stays one parameter.
func TestKeys(t *testing.T) {
	if k := key(report.Backlog, `hub`, `a "b", c]`); k != `fedmsg.consumer.backlog["hub","a \"b\", c]"]` {
		t.Errorf("key %s", k)
	}
	if k := key(report.HubUp, "h", ""); k != `fedmsg.hub.up["h"]` {
		t.Errorf("key %s", k)
	}
	if k := key(report.Goroutines, "", ""); k != "fedmsg.self.goroutines" {
		t.Errorf("key %s", k)
	}
}

var t0 = time.Unix(1796216400, 250)

func batch(backlog float64, growth bool) report.Batch {
	b := report.Batch{Service: "hub", Time: t0, Subjects: []string{"C", "P"}, Consumers: 1,
		Values: []report.Value{{Kind: report.Backlog, V: backlog}, {Kind: report.ExpectedWait, V: 2.5}, {Kind: report.TimeMin, V: 1},
			{Kind: report.Consumers, V: 1}, {Kind: report.ProducerExceptions, Subject: 1, V: 3}}}
	if growth {
		b.Values = append(b.Values, report.Value{Kind: report.GrowthRate, V: 4})
	}
	return b
}

// TestSink: the values of a snapshot at its time, 0 growth for a backlog
// that does not grow, discovery on the tick, the oldest dropped past the
// buffer and counted.
func TestSink(t *testing.T) {
	s := NewSink("h", 0, Cadence{})
	s.Write(report.Update{Snapshots: []report.Batch{batch(7, false)}})
	got := map[string]string{}
	for _, v := range s.queue.oldest(s.queue.len()) {
		if v.Host != "h" || v.Clock != t0.Unix() || v.NS != 250 {
			t.Errorf("value %+v", v)
		}
		got[v.Key] = v.text()
	}
	want := map[string]string{`fedmsg.consumer.backlog["hub","C"]`: "7", `fedmsg.consumer.expected_wait["hub","C"]`: "2.5",
		`fedmsg.consumer.growth_rate["hub","C"]`: "0", `fedmsg.hub.consumers["hub"]`: "1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("values %v, want %v", got, want)
	}
	s.Write(report.Update{Tick: &report.Tick{Time: t0, Watched: []string{"hub"}}})
	var lld []map[string]string
	for _, v := range s.queue.oldest(s.queue.len()) {
		if v.Key == ConsumersDiscovery {
			json.Unmarshal([]byte(v.Value), &lld)
		}
	}
	if len(lld) != 1 || lld[0]["{#SERVICE}"] != "hub" || lld[0]["{#CONSUMER}"] != "C" {
		t.Errorf("discovery %v", lld)
	}

	small := NewSink("h", 10, Cadence{})
	for range 5 {
		small.Write(report.Update{Snapshots: []report.Batch{batch(1, true)}})
	}
	dropped, _, queued := small.Counts()
	if dropped != 5*4-10 || queued != 10 {
		t.Errorf("dropped %d, queued %d: want 10 and 10", dropped, queued)
	}
	// A send of the 4 oldest while 3 more are dropped: only the one not
	// dropped of them goes.
	_, first := small.take(4)
	small.Write(report.Update{Snapshots: []report.Batch{{Service: "hub", Time: t0, Subjects: []string{"C"}, Consumers: 1,
		Values: []report.Value{{Kind: report.Backlog, V: 1}, {Kind: report.Wait, V: 1}}}}})
	before := small.queue.oldest(2)[1]
	small.done(first, 4, 1)
	if _, failed, queued := small.Counts(); queued != 9 || failed != 1 || small.queue.oldest(1)[0] != before {
		t.Errorf("queued %d failed %d after the send", queued, failed)
	}
}

// trapper is a stand-in server: it answers each request with what reply
// makes of it.
func trapper(t testing.TB, reply func(req []byte) []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := readFrame(c, 1<<20)
				if err != nil {
					return
				}
				c.Write(reply(req))
			}()
		}
	}()
	return ln.Addr().String()
}

func success(req []byte) []byte {
	var r request
	json.Unmarshal(req, &r)
	return frame([]byte(fmt.Sprintf(`{"response":"success","info":"processed: %d; failed: 1; total: %d; seconds spent: 0.0001"}`, len(r.Data)-1, len(r.Data))))
}

// TestSender: values go in requests of the protocol; the answer's failed
// values are counted; a server that is down, or answers wrong, keeps the
// values queued, each bounded in time.
func TestSender(t *testing.T) {
	var mu sync.Mutex
	var got []request
	addr := trapper(t, func(req []byte) []byte {
		var r request
		json.Unmarshal(req, &r)
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
		return success(req)
	})
	s := NewSink("h", 0, Cadence{})
	s.Write(report.Update{Snapshots: []report.Batch{batch(7, false)}})
	c := &Sender{Server: addr, Interval: time.Second, Batch: 3}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx, s); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for _, _, q := s.Counts(); q > 0 && time.Now().Before(deadline); _, _, q = s.Counts() {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if _, failed, queued := s.Counts(); queued != 0 || failed != 2 || len(got) != 2 || got[0].Request != "sender data" || len(got[0].Data) != 3 {
		t.Errorf("queued %d, failed %d, requests %+v", queued, failed, got)
	}

	bomb := compressed(bytes.Repeat([]byte("a"), 10<<20), 10<<20)
	for _, tt := range []struct {
		name  string
		reply func([]byte) []byte
		want  string
	}{
		{"not the protocol", func([]byte) []byte { return []byte("HTTP/1.1 400 Bad Request\r\n\r\n") }, "not of the Zabbix protocol"},
		{"a huge length", func([]byte) []byte { return append([]byte("ZBXD\x01"), 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0) }, "over"},
		{"a zlib bomb", func([]byte) []byte { return bomb }, "over"},
		{"a length that lies", func([]byte) []byte { return compressed([]byte(`{"response":"success"}`), 5) }, "not the one its header says"},
		{"not JSON", func([]byte) []byte { return frame([]byte("<html>")) }, "not JSON"},
		{"failed", func([]byte) []byte { return frame([]byte(`{"response":"failed","info":"host not found"}`)) }, "answered"},
		{"wrong counts", func([]byte) []byte {
			return frame([]byte(`{"response":"success","info":"processed: 9; failed: 0; total: 9"}`))
		}, "counted"},
		{"silence", func([]byte) []byte { time.Sleep(2 * time.Second); return nil }, "timeout"},
	} {
		addr := trapper(t, tt.reply)
		c := &Sender{Server: addr, Timeout: 300 * time.Millisecond}
		start := time.Now()
		_, err := c.sendValues(context.Background(), []value{{Host: "h", Key: "k", Value: "1"}})
		if err == nil || !strings.Contains(err.Error(), tt.want) || time.Since(start) > time.Second {
			t.Errorf("%s: %v after %v, want %q within a second", tt.name, err, time.Since(start), tt.want)
		}
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	down := ln.Addr().String()
	ln.Close()
	if _, err := (&Sender{Server: down, Timeout: time.Second}).sendValues(context.Background(), []value{{}}); err == nil {
		t.Error("a server down: no error")
	}
}

// compressed frames data zlib-compressed, its header saying unpacked.
func compressed(data []byte, unpacked int) []byte {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(data)
	w.Close()
	b := []byte("ZBXD\x03\x00\x00\x00\x00\x00\x00\x00\x00")
	binary.LittleEndian.PutUint32(b[5:], uint32(z.Len()))
	binary.LittleEndian.PutUint32(b[9:], uint32(unpacked))
	return append(b, z.Bytes()...)
}

// TestReadFrame: a large packet's 8-byte lengths, and a truncated one.
func TestReadFrame(t *testing.T) {
	b := []byte("ZBXD\x05")
	b = binary.LittleEndian.AppendUint64(b, 2)
	b = binary.LittleEndian.AppendUint64(b, 0)
	b = append(b, "{}"...)
	if d, err := readFrame(bytes.NewReader(b), 100); err != nil || string(d) != "{}" {
		t.Errorf("large packet: %q %v", d, err)
	}
	if _, err := readFrame(bytes.NewReader(b[:15]), 100); err == nil {
		t.Error("truncated: no error")
	}
	if _, err := readFrame(io.LimitReader(bytes.NewReader(frame([]byte("{}"))), 14), 100); err == nil {
		t.Error("truncated data: no error")
	}
}

// TestConfig: the port defaults to 10051; PSK is refused, saying why;
// cert needs its three files.
func TestConfig(t *testing.T) {
	host := func() (string, error) { return "me", nil }
	c := Config{Server: "zabbix.example", TLSConnect: "unencrypted", Buffer: 1, AgentConfigs: []string{}}
	if err := c.Check(host); err != nil || c.Server != "zabbix.example:10051" || c.Host != "me" {
		t.Errorf("%+v %v", c, err)
	}
	for _, tt := range []struct {
		c    Config
		want string
	}{
		{Config{TLSConnect: "unencrypted", Buffer: 1}, "required"},
		{Config{Server: "z", TLSConnect: "psk", Buffer: 1}, "not supported"},
		{Config{Server: "z", TLSConnect: "cert", CAFile: "x", Buffer: 1}, "needs"},
		{Config{Server: "z", TLSConnect: "unencrypted", CertFile: "x", Buffer: 1}, "need --zabbix-tls-connect cert"},
		{Config{Server: "z", TLSConnect: "unencrypted"}, "at least 1"},
	} {
		if err := tt.c.Check(host); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.c, err, tt.want)
		}
	}
}

// TestServerBack: values queued while the server does not answer (it
// takes connections and says nothing) go once it does; the snapshots
// meanwhile are kept.
func TestServerBack(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := NewSink("h", 0, Cadence{})
	var log testhub.Buffer
	c := &Sender{Server: ln.Addr().String(), Interval: 100 * time.Millisecond, Timeout: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&log, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx, s)
	for range 3 {
		s.Write(report.Update{Snapshots: []report.Batch{batch(7, false)}})
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(log.String(), "cannot push") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if _, _, queued := s.Counts(); queued != 12 || !strings.Contains(log.String(), "queued=12") {
		t.Fatalf("%d queued, want 12; log:\n%s", queued, log.String())
	}
	got := make(chan int, 10)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			// The attempts while it was not answering: closed by now.
			req, err := readFrame(conn, 1<<20)
			if err != nil {
				conn.Close()
				continue
			}
			var r request
			json.Unmarshal(req, &r)
			got <- len(r.Data)
			conn.Write(frame([]byte(fmt.Sprintf(`{"response":"success","info":"processed: %d; failed: 0; total: %d"}`, len(r.Data), len(r.Data)))))
			conn.Close()
		}
	}()
	// The frames of the attempts that timed out are read too, answered to
	// no one: wait for the one with every value queued, and the queue empty.
	timeout := time.After(5 * time.Second)
	for {
		select {
		case n := <-got:
			if n != 12 {
				continue
			}
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if _, _, queued := s.Counts(); queued == 0 {
					return
				}
			}
		case <-timeout:
			_, _, queued := s.Counts()
			t.Fatalf("%d values still queued 5 s after the server answers", queued)
		}
	}
}

// TestPushFailureReasons: a push that keeps failing for one reason is
// logged once; another reason is logged at once, not a minute later.
func TestPushFailureReasons(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // refused, first
	s := NewSink("h", 0, Cadence{})
	var log testhub.Buffer
	c := &Sender{Server: addr, Interval: 20 * time.Millisecond, Timeout: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&log, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx, s)
	s.Write(report.Update{Snapshots: []report.Batch{batch(7, false)}})
	waitFor := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(log.String(), what); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the log within 5 s:\n%s", what, log.String())
			}
		}
	}
	waitFor("connection refused")
	// Then a server that answers garbage.
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
			conn.Close()
		}
	}()
	waitFor("not of the Zabbix protocol")
	if n := strings.Count(log.String(), "connection refused"); n != 1 {
		t.Errorf("the same reason logged %d times within a minute:\n%s", n, log.String())
	}
}

// TestHostName: without --zabbix-host, the host is the agent's Hostname=
// (the last one read, Include= files read where they stand; the first of
// a list), else the machine's name.
func TestHostName(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "d"), 0o755)
	os.WriteFile(filepath.Join(dir, "agentd.conf"), []byte("# Hostname=commented\nHostname=Zabbix server\nInclude="+filepath.Join(dir, "d")+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "d", "host.conf"), []byte(" Hostname = bus01.example.org, other\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "agent2.conf"), []byte("Hostname=agent2\n"), 0o644)
	host := func() (string, error) { return "fallback.example.org", nil }
	for _, tt := range []struct {
		files []string
		want  string
	}{
		{[]string{filepath.Join(dir, "agentd.conf"), filepath.Join(dir, "agent2.conf")}, "bus01.example.org"},
		{[]string{filepath.Join(dir, "none.conf"), filepath.Join(dir, "agent2.conf")}, "agent2"},
		{[]string{filepath.Join(dir, "none.conf")}, "fallback.example.org"},
	} {
		c := Config{Server: "z", TLSConnect: "unencrypted", Buffer: 1, AgentConfigs: tt.files}
		if err := c.Check(host); err != nil || c.Host != tt.want {
			t.Errorf("%v: host %q (%v), want %q", tt.files, c.Host, err, tt.want)
		}
	}
}
