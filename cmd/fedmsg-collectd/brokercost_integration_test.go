package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/fedora-infra/fedmsg-collectd/internal/source/rabbitmq"
	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// BenchmarkBrokerCostIntegration measures what polling a broker with 1000
// queues costs it: bytes and time of an answer to the narrow request the
// plugin makes against a full /api/queues (what collectd's rabbitmq
// plugins ask for), and of its second request, of the lengths now; and the plugin's CPU polling it every 10 s. It prints
// the figures for scripts/bench (BROKERCOST lines); the window is
// FEDMSG_BENCH_WINDOW (default 20s). It asserts the narrow request is at
// least 5 times lighter in bytes.
//
// A benchmark, not a test: it runs once whatever b.N, from scripts/bench;
// scripts/test's run of the benchmarks leaves it out (-skip Integration).
func BenchmarkBrokerCostIntegration(b *testing.B) {
	var t testing.TB = b
	testhub.Integration(t)
	conn, mgmt := startRabbitMQ(t)
	ch, _ := conn.Channel()
	for i := range 1000 {
		q := fmt.Sprintf("queue.%04d", i)
		if _, err := ch.QueueDeclare(q, false, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
		ch.Publish("", q, false, false, amqp.Publishing{Body: []byte("x")})
	}
	src := &rabbitmq.Source{URL: "http://guest:guest@" + mgmt}
	narrow, _ := src.Request(t.Context())
	live, _ := src.LiveRequest(t.Context())
	measure := func(u string) (bytes int, ms float64) {
		var times []float64
		for range 7 {
			req, _ := http.NewRequest("GET", u, nil)
			req.SetBasicAuth("guest", "guest")
			start := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			times = append(times, float64(time.Since(start).Microseconds())/1000)
			bytes = len(b)
		}
		slices.Sort(times)
		return bytes, times[len(times)/2]
	}
	// Once the broker has every queue's statistics (its collector runs
	// every 5 s: before, the answers list names only).
	eventually(t, 60*time.Second, "1000 queues' statistics", func() (bool, string) {
		req, _ := http.NewRequest("GET", narrow.URL.String(), nil)
		req.SetBasicAuth("guest", "guest")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err.Error()
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		n := strings.Count(string(b), `"messages_ready"`)
		return n >= 1000, strconv.Itoa(n)
	})
	nb, nms := measure(narrow.URL.String())
	fb, fms := measure("http://" + mgmt + "/api/queues")
	lb, lms := measure(live.URL.String())
	fmt.Printf("BROKERCOST narrow %d bytes %.1f ms, full %d bytes %.1f ms, live %d bytes %.1f ms\n", nb, nms, fb, fms, lb, lms)
	if fb < 5*nb {
		t.Errorf("the narrow request answers %d bytes, the full one %d: not 5 times less", nb, fb)
	}

	// The plugin polling them every 10 s, its stdout a pipe.
	window := benchWindow()
	bin := filepath.Join(buildPlugin(t), "fedmsg-collectd")
	cmd := exec.Command(bin, "--rabbitmq", "http://guest:guest@"+mgmt, "--rabbitmq-interval", "10s", "--hostname", "bench")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan int, 1)
	go func() {
		b, _ := io.ReadAll(out)
		lines <- strings.Count(string(b), "\n")
	}()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	time.Sleep(12 * time.Second) // the first polls: not what it costs to run
	c0 := cpuNanos(t, cmd.Process.Pid)
	time.Sleep(window)
	c1 := cpuNanos(t, cmd.Process.Pid)
	rss := vmRSS(t, cmd.Process.Pid)
	cmd.Process.Kill()
	cmd.Wait()
	n := <-lines
	cpu := 100 * float64(c1-c0) / float64(window.Nanoseconds())
	fmt.Printf("BROKERCOST plugin %.3f %% CPU over %v, RSS %.1f MiB, %d lines written\n", cpu, window, rss, n)
	if n < 1000 {
		t.Errorf("the plugin wrote %d lines for 1000 queues", n)
	}
	scrapeAgainstEmpty(t, bin, "--rabbitmq", "http://guest:guest@"+mgmt, "--rabbitmq-interval", "10s")
}

// scrapeAgainstEmpty starts the exporter with args and, beside it, one
// with no source (the Go runtime's and its own series only), scrapes
// them in turn 200 times plain then 200 times gzipped once the first
// has a consumer's series (the gzipped from a poll after a first), and
// prints the 99th percentiles (SCRAPECOST,
// for scripts/bench).
func scrapeAgainstEmpty(t testing.TB, bin string, args ...string) {
	start := func(args ...string) string {
		addr := "127.0.0.1:" + freePortForCheck(t)
		cmd := exec.Command(bin, append([]string{"exporter", "--web.listen-address", addr}, args...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return "http://" + addr + "/metrics"
	}
	full, empty := start(args...), start("--socket-dir", t.TempDir())
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	scrape := func(u string, gzip bool) (ms float64, body string) {
		req, _ := http.NewRequest("GET", u, nil)
		if gzip {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, ""
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return float64(time.Since(start).Microseconds()) / 1000, string(b)
	}
	eventually(t, 60*time.Second, "the exporter's consumers", func() (bool, string) {
		_, body := scrape(full, false)
		_, e := scrape(empty, false)
		return strings.Contains(body, "fedmsg_consumer_backlog{") && e != "", fmt.Sprint(len(body))
	})
	_, body := scrape(full, false)
	snapshots := func() string {
		_, body := scrape(full, false)
		return regexp.MustCompile(`(?m)^fedmsg_exporter_snapshots_total\{.*$`).FindString(body)
	}
	for _, gz := range []bool{false, true} {
		if gz {
			// A first gzipped scrape, then a poll: as when a scraper comes
			// regularly, the snapshot the next reads is packed for it (the
			// first of a new scraper is BenchmarkScrape's "not packed").
			scrape(full, true)
			before := snapshots()
			eventually(t, 30*time.Second, "a poll after the first gzipped scrape", func() (bool, string) {
				now := snapshots()
				return now != before, now
			})
		}
		var a, b []float64
		for range 200 {
			ms, _ := scrape(full, gz)
			a = append(a, ms)
			ms, _ = scrape(empty, gz)
			b = append(b, ms)
		}
		slices.Sort(a)
		slices.Sort(b)
		p99 := func(x []float64) float64 { return x[(len(x)-1)*99/100] }
		fmt.Printf("SCRAPECOST %s gzip %v p99 %.1f ms against empty %.1f ms: %.2fx (%d lines)\n",
			strings.Join(args[:1], " "), gz, p99(a), p99(b), p99(a)/p99(b), strings.Count(body, "\n"))
	}
}

// cpuNanos is the CPU time of all of a process's threads.
func cpuNanos(t testing.TB, pid int) int64 {
	t.Helper()
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var sum int64
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n, _ := strconv.ParseInt(strings.Fields(string(b))[0], 10, 64)
		sum += n
	}
	return sum
}

// vmRSS is a process's resident memory in MiB.
func vmRSS(t testing.TB, pid int) float64 {
	t.Helper()
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
