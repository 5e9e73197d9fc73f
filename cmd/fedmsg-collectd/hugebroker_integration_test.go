package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// TestHugeBrokersIntegration: three hostile brokers at once, beside a
// hub publishing every second (five times as often as moksha): one answering with a million
// queues (48 MB) in 2000 vhosts, one with 200 MB, one with an endless
// queue name. The plugin keeps at most --rabbitmq-max-queues of the
// million in at most 1000 vhosts (the rest counted, logged once), fails the other two polls (counted, said), never
// holds more than 96 MiB, and keeps every snapshot of the hub.
func TestHugeBrokersIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	var million bytes.Buffer
	million.WriteByte('[')
	for i := range 1000000 {
		if i > 0 {
			million.WriteByte(',')
		}
		fmt.Fprintf(&million, `{"name":"q%07d","vhost":"/v%04d","messages_ready":1}`, i, i%2000)
	}
	million.WriteByte(']')
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(million.Bytes()) }))
	defer huge.Close()
	entry := `{"name":"q","vhost":"/","messages_ready":1},`
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat(entry, 1<<20/len(entry)))
		w.Write([]byte("["))
		for sent := 0; sent < 200<<20; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer big.Close()
	endless := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("a", 1<<20))
		w.Write([]byte(`[{"name":"`))
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer endless.Close()
	hub := testhub.Start(t, "tcp://127.0.0.1:*", time.Second, fixtures+"ipc-01.json")
	p := startProc(t, "--socket-dir=", "--endpoint", "fedmsg-hub="+hub.Endpoint, "--interval", "1s",
		"--rabbitmq", "huge="+huge.URL, "--rabbitmq", "big="+big.URL, "--rabbitmq", "endless="+endless.URL, "--rabbitmq-interval", "4s")
	start := time.Now()
	var (
		lines           = map[string]float64{}
		skipped, failed float64
		polls           int
		latency         float64 // the longest from a snapshot's arrival to its lines written
	)
	sc := bufio.NewScanner(p.stdout)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, `PUTVAL "testhost/fedmsg-collectd/`) {
			continue // read fast: a slow reader is a stalled collectd, whose snapshots are dropped
		}
		if f := strings.Fields(l); len(f) == 4 {
			_, v, _ := strings.Cut(f[3], ":")
			var x float64
			fmt.Sscan(v, &x)
			lines[strings.Trim(f[1], `"`)] = x
			if strings.Contains(f[1], "latency_max") {
				latency = max(latency, x)
			}
		}
		skipped = lines["testhost/fedmsg-collectd/derive-huge_skipped_entries"]
		failed = min(lines["testhost/fedmsg-collectd/derive-big_failed_polls"], lines["testhost/fedmsg-collectd/derive-endless_failed_polls"])
		if polls = int(skipped / 990000); polls >= 3 && failed >= 3 {
			break
		}
		if time.Since(start) > 60*time.Second {
			break
		}
	}
	took := time.Since(start)
	hwm := p.status(t, "VmHWM")
	dropped := lines["testhost/fedmsg-collectd/derive-fedmsg-hub_dropped_snapshots"]
	snapshots := lines["testhost/fedmsg-collectd/derive-fedmsg-hub_snapshots"] // as of the last tick
	t.Logf("%d polls of a million queues and %v failed polls of 200 MB and endless answers in %v: peak RSS %d KiB; hub snapshots %v, dropped %v; latency max %v s",
		polls, failed, took.Round(time.Second), hwm, snapshots, dropped, latency)
	if polls < 3 || failed < 3 {
		t.Fatalf("not 3 polls of each within 60 s; stderr:\n%s", p.stderr)
	}
	if hwm > 96<<10 {
		t.Errorf("peak RSS %d KiB, want at most 96 MiB", hwm)
	}
	if dropped != 0 || snapshots < 0.8*(took.Seconds()-1) {
		t.Errorf("hub beside: %v snapshots taken in %v (one each second published), %v dropped", snapshots, took, dropped)
	}
	errs := p.stderr.String()
	// 64 MiB of the 200 MB answer may take longer than the poll's time
	// out to read: either is its failure.
	if strings.Count(errs, "rabbitmq-max-queues") != 1 || !strings.Contains(errs, "over 256 KiB") ||
		!strings.Contains(errs, "over the size limit") && !strings.Contains(errs, "time out") {
		t.Errorf("stderr:\n%s", errs)
	}
}
