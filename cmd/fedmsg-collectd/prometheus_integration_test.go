package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// startDaemon starts a long-running program, stopped when the test ends,
// with its output in a file of dir.
func startDaemon(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	log, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		log.Close()
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("%s's log:\n%s", name, b)
		}
	})
}

// eventually calls f until it returns true or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, f func() (bool, string)) {
	t.Helper()
	eventuallyEvery(t, within, 200*time.Millisecond, what, f)
}

// zabbixPoll is how often a test asks Zabbix's API: each call runs the
// PHP frontend and queries PostgreSQL, and the servers' states change on
// periods of seconds. The four Zabbix tests used 90 s of CPU asking
// every second, 78 s every 2 s (6 s longer).
const zabbixPoll = 2 * time.Second

// eventuallyEvery is eventually, calling f every period.
func eventuallyEvery(t testing.TB, within, period time.Duration, what string, f func() (bool, string)) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(within)
	last := ""
	for time.Now().Before(deadline) {
		ok, s := f()
		if ok {
			t.Logf("%s: after %.1f s", what, time.Since(start).Seconds())
			return
		}
		last = s
		time.Sleep(period)
	}
	t.Fatalf("%s: not within %v; last: %s", what, within, last)
}

// promQuery asks Prometheus' HTTP API for an instant vector with one
// sample and returns its value.
func promQuery(addr, q string) (float64, string) {
	vs, body := promValues(addr, q)
	if len(vs) != 1 || math.IsNaN(vs[0]) {
		return 0, body // fails the callers' ranges
	}
	return vs[0], body
}

// promValues runs an instant query and returns its series' values (NaN
// for one that is not a number), with the answer; none if it failed.
func promValues(addr, q string) ([]float64, string) {
	resp, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Status string
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		return nil, string(body)
	}
	vs := make([]float64, len(r.Data.Result))
	for i, res := range r.Data.Result {
		s, _ := res.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			v = math.NaN()
		}
		vs[i] = v
	}
	return vs, string(body)
}

// TestPrometheusIntegration: Debian's Prometheus scrapes the exporter,
// which watches a real libzmq publisher; its HTTP API gives back the
// backlog published and the rate of messages in; promtool accepts the
// exposition and the alerting rules load.
func TestPrometheusIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	for _, p := range []string{"prometheus", "promtool"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s is not installed (scripts/test installs Debian's prometheus)", p)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(buildPlugin(t), "fedmsg-collectd")
	// Every 500 ms: backlog 42, 25 messages in, 20 out, 20 times.
	msg := `{"consumers": [{"name": "FMNConsumer", "module": "fmn.consumer", "topic": "org.fedoraproject.prod.*",
	  "initialized": true, "exceptions": 0, "backlog": 42, "headcount_in": 25, "headcount_out": 20,
	  "times": [` + strings.TrimSuffix(strings.Repeat("0.1, ", 20), ", ") + `]}],
	  "producers": [{"name": "DigestProducer", "module": "fmn.producer", "initialized": true, "exceptions": 0,
	  "frequency": 60, "now": false, "last_ran": 1795516099.0}]}`
	file := filepath.Join(dir, "fmn.json")
	os.WriteFile(file, []byte(msg), 0o644)
	ep := "ipc://" + filepath.Join(dir, "monitoring-fedmsg-hub.socket")
	testhub.Start(t, ep, 500*time.Millisecond, file)

	// A second hub whose backlog shrinks from 400 to 20 and grows back,
	// for the dashboard's drain and growth panels.
	var cycle []string
	for i := range 40 {
		backlog, in, out := 400-20*i, 10, 30
		if i >= 20 {
			backlog, in, out = 20*(i-19), 30, 10
		}
		f := filepath.Join(dir, fmt.Sprintf("drain-%02d.json", i))
		os.WriteFile(f, []byte(fmt.Sprintf(`{"consumers": [{"name": "DrainConsumer", "module": "m", "topic": "t", "initialized": true,
		  "exceptions": 0, "backlog": %d, "headcount_in": %d, "headcount_out": %d, "times": [0.01]}], "producers": []}`, backlog, in, out)), 0o644)
		cycle = append(cycle, f)
	}
	epDrain := "ipc://" + filepath.Join(dir, "monitoring-fedmsg-drain.socket")
	testhub.Run(t, testhub.Config{Endpoint: epDrain, Period: 200 * time.Millisecond, Files: cycle})

	epCaptures, p95 := captureHub(t, dir)

	exp := "127.0.0.1:" + freePortForCheck(t)
	startDaemon(t, dir, "exporter", bin, "exporter", "--endpoint", ep, "--endpoint", epDrain, "--endpoint", epCaptures,
		"--web.listen-address", exp, "--interval", "1s")
	prom := "127.0.0.1:" + freePortForCheck(t)
	rules, _ := filepath.Abs("../../docs/prometheus/alerts.yml")
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [%q]\n"+
		"scrape_configs:\n  - job_name: fedmsg\n    static_configs:\n      - targets: [%q]\n", rules, exp)
	os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644)
	startDaemon(t, dir, "prometheus", "prometheus", "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+prom)

	eventually(t, 60*time.Second, "backlog in Prometheus", func() (bool, string) {
		v, s := promQuery(prom, `fedmsg_consumer_backlog{service="fedmsg-hub",consumer="FMNConsumer"}`)
		return v == 42, s
	})
	// 25 messages every 500 ms (a little more: the publisher sleeps 500
	// ms between sends) are about 50 a second.
	eventually(t, 60*time.Second, "rate of messages in", func() (bool, string) {
		v, s := promQuery(prom, `rate(fedmsg_consumer_messages_in_total{consumer="FMNConsumer"}[10s])`)
		return v > 40 && v <= 51, s
	})
	eventually(t, 20*time.Second, "hub up and the rules loaded", func() (bool, string) {
		up, s := promQuery(prom, `fedmsg_hub_up{service="fedmsg-hub"}`)
		if up != 1 {
			return false, s
		}
		resp, err := http.Get("http://" + prom + "/api/v1/rules")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), "FedmsgExpectedWaitHigh"), string(b)
	})
	p50, s := promQuery(prom, `histogram_quantile(0.5, rate(fedmsg_consumer_processing_seconds_bucket{consumer="FMNConsumer"}[10s]))`)
	if p50 <= 0.08 || p50 > 0.1 {
		t.Errorf("median processing time from the histogram %v, want within its bucket (0.08, 0.1]: %s", p50, s)
	}
	checkHistogram(t, prom, p95)

	checkDashboard(t, prom)

	// promtool accepts the exposition as scraped.
	resp, err := http.Get("http://" + exp + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	check := exec.CommandContext(ctx, "promtool", "check", "metrics")
	check.Stdin = strings.NewReader(string(body))
	if out, err := check.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestAlertRulesIntegration: the alerting rules in docs/ are valid and
// pass their unit tests.
func TestAlertRulesIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	for _, args := range [][]string{
		{"check", "rules", "alerts.yml"},
		{"test", "rules", "alerts.test.yml"},
	} {
		cmd := exec.Command("promtool", args...)
		cmd.Dir = "../../docs/prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}
