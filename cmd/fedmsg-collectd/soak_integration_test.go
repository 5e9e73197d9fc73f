package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// BenchmarkSoakIntegration keeps run, exporter and zabbix (to Debian's
// Zabbix server) watching three hubs for FEDMSG_SOAK (default 2m), while
// one hub after another is killed until all three have said it is down,
// then started again until all three have said it is up. It prints SOAK
// lines: the outages each alerted, and each one's RSS and open files
// after a first round of outages and at the end. It fails when an outage is not alerted by all
// three, or RSS or open files grow.
//
// A benchmark, not a test: it runs once whatever b.N, from scripts/bench
// (FEDMSG_SOAK=20m for the figures of docs/behaviour.md).
func BenchmarkSoakIntegration(b *testing.B) {
	var t testing.TB = b
	testhub.Integration(t)
	soak := 2 * time.Minute
	if d, err := time.ParseDuration(os.Getenv("FEDMSG_SOAK")); err == nil {
		soak = d
	}
	z, _ := zabbixWithHost(t, "soak")
	dir := t.TempDir()
	eps := make([]string, 3)
	hubs := make([]*testhub.Hub, 3)
	var args []string
	start := func(i int) {
		hubs[i] = testhub.Run(t, testhub.Config{Endpoint: eps[i], Period: 500 * time.Millisecond, Files: []string{fixtures + "ipc-01.json"}})
	}
	for i := range eps {
		eps[i] = fmt.Sprintf("ipc://%s/hub%d.socket", dir, i)
		args = append(args, "--endpoint", fmt.Sprintf("hub%d=%s", i, eps[i]))
		start(i)
	}
	args = append(args, "--socket-dir=", "--interval", "1s")

	// What each says of each hub: its latest up value, and the outages
	// it has said (the times up went from 1 to 0).
	type seen struct {
		mu    sync.Mutex
		up    [3]float64
		downs [3]int
	}
	saw := map[string]*seen{"run": {}, "exporter": {}, "zabbix": {}}
	note := func(who string, hub int, v float64) {
		s := saw[who]
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.up[hub] == 1 && v == 0 {
			s.downs[hub]++
		}
		s.up[hub] = v
	}
	state := func(who string, hub int) (float64, int) {
		s := saw[who]
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.up[hub], s.downs[hub]
	}

	runP := startProc(t, args...)
	go func() {
		sc := bufio.NewScanner(runP.stdout)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			for i := range 3 {
				if len(f) == 4 && f[1] == fmt.Sprintf(`"testhost/hub%d/bool-hub_up"`, i) {
					_, v, _ := strings.Cut(f[3], ":")
					var x float64
					fmt.Sscan(v, &x)
					note("run", i, x)
				}
			}
		}
	}()
	bin := filepath.Join(buildPlugin(t), "fedmsg-collectd")
	port := freePortForCheck(t)
	exp := exec.Command(bin, append([]string{"exporter", "--web.listen-address", "127.0.0.1:" + port}, args...)...)
	zbx := exec.Command(bin, append([]string{"zabbix", "--zabbix-server", z.trapper, "--zabbix-host", "soak"}, args...)...)
	for _, c := range []*exec.Cmd{exp, zbx} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() { // the exporter scraped as Prometheus would, every second
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			resp, err := http.Get("http://127.0.0.1:" + port + "/metrics")
			if err != nil {
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for i := range 3 {
				prefix := fmt.Sprintf(`fedmsg_hub_up{service="hub%d"} `, i)
				for _, l := range strings.Split(string(body), "\n") {
					if v, ok := strings.CutPrefix(l, prefix); ok {
						var x float64
						fmt.Sscan(v, &x)
						note("exporter", i, x)
					}
				}
			}
		}
	}()
	zabbixUp := func(i int) {
		var items []struct{ Itemid, Lastvalue, Lastclock string }
		key := fmt.Sprintf(`fedmsg.hub.up["hub%d"]`, i)
		if err := z.call("item.get", map[string]any{"host": "soak", "filter": map[string]any{"key_": key}}, &items); err != nil || len(items) != 1 || items[0].Lastclock == "0" {
			return
		}
		var x float64
		fmt.Sscan(items[0].Lastvalue, &x)
		note("zabbix", i, x)
	}
	all := func(hub int, want float64) (bool, string) {
		zabbixUp(hub)
		var says []string
		ok := true
		for _, who := range []string{"run", "exporter", "zabbix"} {
			v, _ := state(who, hub)
			says = append(says, fmt.Sprintf("%s %v", who, v))
			ok = ok && v == want
		}
		return ok, strings.Join(says, ", ")
	}
	for i := range 3 {
		eventually(t, 3*time.Minute, fmt.Sprintf("hub%d up for all three (Zabbix's discovery made its items)", i), func() (bool, string) { return all(i, 1) })
	}
	type usage struct{ rss, fds float64 }
	measure := func() (u [3]usage) {
		for k, pid := range []int{runP.cmd.Process.Pid, exp.Process.Pid, zbx.Process.Pid} {
			fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
			u[k] = usage{vmRSS(t, pid), float64(len(fds))}
		}
		return u
	}
	// RSS and open files are compared from the end of a first round of
	// outages, one a hub, when every path has been taken once.
	var before [3]usage
	began := time.Now()
	outages := 0
	for ; outages < 3 || time.Since(began) < soak; outages++ {
		if outages == 3 {
			before = measure()
		}
		i := outages % 3
		hubs[i].Kill()
		eventually(t, 60*time.Second, fmt.Sprintf("outage %d: hub%d down for all three", outages+1, i), func() (bool, string) { return all(i, 0) })
		start(i)
		eventually(t, 60*time.Second, fmt.Sprintf("outage %d: hub%d up again for all three", outages+1, i), func() (bool, string) { return all(i, 1) })
	}
	after := measure()
	for k, who := range []string{"run", "exporter", "zabbix"} {
		alerted := 0
		for i := range 3 {
			_, d := state(who, i)
			alerted += d
		}
		fmt.Printf("SOAK %s alerted %d of %d outages over %v; RSS %.1f -> %.1f MiB; open files %v -> %v\n",
			who, alerted, outages, time.Since(began).Round(time.Second), before[k].rss, after[k].rss, before[k].fds, after[k].fds)
		if alerted != outages {
			t.Errorf("%s alerted %d of %d outages", who, alerted, outages)
		}
		if after[k].fds > before[k].fds || after[k].rss > before[k].rss+4 {
			t.Errorf("%s grew: RSS %.1f -> %.1f MiB, open files %v -> %v", who, before[k].rss, after[k].rss, before[k].fds, after[k].fds)
		}
	}
}
