package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// TestHugePrometheusIntegration: a node's Prometheus listener answering
// with a million series, every poll, at the default caps: each poll fails (two are read)
// ("more lines than the queues watched can need"), is counted and said,
// the plugin never holds more than 96 MiB, and once the node answers
// sanely again it comes back to the size of a twin that only ever saw
// sane answers.
func TestHugePrometheusIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	var million bytes.Buffer
	for i := range 1000000 {
		fmt.Fprintf(&million, "rabbitmq_detailed_queue_messages_ready{vhost=\"/v%04d\",queue=\"q%07d\"} 1\n", i%2000, i)
	}
	million.WriteString("rabbitmq_build_info{rabbitmq_version=\"3.10.8\"} 1\n")
	sane := []byte("rabbitmq_detailed_queue_messages_ready{vhost=\"/\",queue=\"q\"} 1\nrabbitmq_build_info{rabbitmq_version=\"3.10.8\"} 1\n")
	var hostile atomic.Bool
	hostile.Store(true)
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hostile.Load() {
			w.Write(million.Bytes())
		} else {
			w.Write(sane)
		}
	}))
	defer huge.Close()
	twinSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(sane) }))
	defer twinSrv.Close()
	args := []string{"--socket-dir=", "--interval", "1s", "--rabbitmq-interval", "8s", "--rabbitmq-prometheus"}
	p := startProc(t, append(args, "huge="+huge.URL)...)
	twin := startProc(t, append(args, "huge="+twinSrv.URL)...)
	go io.Copy(io.Discard, twin.stdout)
	start := time.Now()
	failed := 0.0
	sc := bufio.NewScanner(p.stdout)
	for sc.Scan() && failed < 2 && time.Since(start) < 60*time.Second {
		if f := strings.Fields(sc.Text()); len(f) == 4 && f[1] == `"testhost/fedmsg-collectd/derive-huge_failed_polls"` {
			_, v, _ := strings.Cut(f[3], ":")
			fmt.Sscan(v, &failed)
		}
	}
	hwm := p.status(t, "VmHWM")
	t.Logf("%v failed polls of a million series in %v: peak RSS %d KiB", failed, time.Since(start).Round(time.Second), hwm)
	if failed < 2 {
		t.Fatalf("not 2 failed polls within 60 s; stderr:\n%s", p.stderr)
	}
	if hwm > 96<<10 {
		t.Errorf("peak RSS %d KiB, want at most 96 MiB", hwm)
	}
	// Parsing a million series may take longer than the poll's time out:
	// either is its failure.
	if errs := p.stderr.String(); !strings.Contains(errs, "more lines than the queues watched can need") && !strings.Contains(errs, "time out") {
		t.Errorf("stderr:\n%s", errs)
	}
	// Back to the twin's size (within 4 MiB) once the answers are sane.
	hostile.Store(false)
	go io.Copy(io.Discard, p.stdout)
	back := time.Now()
	eventually(t, 60*time.Second, "RSS back to the twin's", func() (bool, string) {
		rss, idle := p.status(t, "VmRSS"), twin.status(t, "VmRSS")
		msg := fmt.Sprintf("RSS %d KiB %v after the answers turned sane; the twin's %d KiB", rss, time.Since(back).Round(time.Second), idle)
		return rss <= idle+4<<10, msg
	})
	t.Logf("RSS back to the twin's (within 4 MiB) %v after the answers turned sane", time.Since(back).Round(time.Second))
}
