package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// netdataLast returns the newest value of each dimension of a chart, from
// Netdata's /api/v1/data.
func netdataLast(addr, chart string) (map[string]float64, string) {
	resp, err := http.Get("http://" + addr + "/api/v1/data?chart=" + chart + "&after=-3&format=json&points=3")
	if err != nil {
		return nil, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Labels []string `json:"labels"`
		Data   [][]any  `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil || len(r.Data) == 0 {
		return nil, string(body)
	}
	out := map[string]float64{}
	for i, l := range r.Labels[1:] {
		if v, ok := r.Data[0][i+1].(float64); ok { // newest first
			out[l] = v
		}
	}
	return out, string(body)
}

// TestNetdataIntegration: Debian's Netdata runs the plugin from its
// plugins directory (a link named fedmsg.plugin, as the README installs
// it) against a real libzmq publisher; its API gives back the values.
func TestNetdataIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	if _, err := os.Stat("/usr/sbin/netdata"); err != nil {
		t.Fatal("netdata is not installed (scripts/test installs Debian's netdata)")
	}
	dir := t.TempDir()
	plugins := buildPlugin(t)
	if err := os.Symlink("fedmsg-collectd", filepath.Join(plugins, "fedmsg.plugin")); err != nil {
		t.Fatal(err)
	}
	msg := `{"consumers": [{"name": "FMNConsumer", "module": "fmn.consumer", "topic": "org.fedoraproject.prod.*",
	  "initialized": true, "exceptions": 1, "backlog": 42, "headcount_in": 25, "headcount_out": 20,
	  "times": [` + strings.TrimSuffix(strings.Repeat("0.1, ", 20), ", ") + `]}], "producers": []}`
	file := filepath.Join(dir, "fmn.json")
	os.WriteFile(file, []byte(msg), 0o644)
	ep := "ipc://" + filepath.Join(dir, "monitoring-fedmsg-hub.socket")
	testhub.Start(t, ep, 500*time.Millisecond, file)

	addr := "127.0.0.1:" + freePortForCheck(t)
	for _, d := range []string{"etc", "log", "cache", "lib", "health.d", "stock-health.d"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	// The health alarms shipped, and no stock ones; a hub that is not
	// there, whose source-down alarm must be raised.
	health, err := os.ReadFile("../../docs/netdata/fedmsg-health.conf")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "health.d", "fedmsg.conf"), health, 0o644)
	gone := "fedmsg-gone=tcp://127.0.0.1:" + freePortForCheck(t)
	conf := fmt.Sprintf(`[global]
  run as user = root
  hostname = testhost
  update every = 1
  memory mode = ram
[directories]
  config = %[1]s/etc
  stock config = /usr/lib/netdata/conf.d
  log = %[1]s/log
  cache = %[1]s/cache
  lib = %[1]s/lib
  plugins = %[2]s
  home = %[1]s
  health config = %[1]s/health.d
  stock health config = %[1]s/stock-health.d
[logs]
  error = %[1]s/log/error.log
  access = none
  debug = none
[plugins]
  enable running new plugins = no
  fedmsg = yes
  proc = no
  diskspace = no
  cgroups = no
  tc = no
  idlejitter = no
  timex = no
  checks = no
  apps = no
  python.d = no
  charts.d = no
  go.d = no
  ebpf = no
  statsd = no
  netdata monitoring = no
[plugin:fedmsg]
  update every = 1
  command options = --idle-periods 1 --endpoint %[3]s --endpoint %[5]s
[web]
  bind to = %[4]s
[health]
  enabled = yes
[ml]
  enabled = no
[registry]
  enabled = no
[statsd]
  enabled = no
`, dir, plugins, ep, addr, gone)
	os.WriteFile(filepath.Join(dir, "netdata.conf"), []byte(conf), 0o644)
	startDaemon(t, dir, "netdata", "/usr/sbin/netdata", "-D", "-c", filepath.Join(dir, "netdata.conf"))
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "log", "error.log"))
			t.Logf("netdata's error.log:\n%s", b)
		}
	})

	for _, tt := range []struct {
		chart string
		want  map[string]float64
	}{
		{"fedmsg.fedmsg_hub_FMNConsumer_backlog", map[string]float64{"backlog": 42}},
		{"fedmsg.fedmsg_hub_FMNConsumer_processing", map[string]float64{"p50": 100, "p95": 100, "p99": 100}}, // milliseconds
		{"fedmsg.fedmsg_hub_up", map[string]float64{"up": 1}},
	} {
		eventually(t, 60*time.Second, tt.chart, func() (bool, string) {
			got, body := netdataLast(addr, tt.chart)
			for k, v := range tt.want {
				if g, ok := got[k]; !ok || g != v {
					return false, body
				}
			}
			return true, ""
		})
	}
	// Exceptions: one a publish, two publishes a second.
	eventually(t, 30*time.Second, "exceptions per second", func() (bool, string) {
		got, body := netdataLast(addr, "fedmsg.fedmsg_hub_FMNConsumer_exceptions")
		v, ok := got["exceptions"]
		return ok && v >= 1 && v <= 3, body
	})
	// The shipped health file is loaded, and raises the source-down alarm
	// of the hub that is not there: read through the API.
	eventually(t, 60*time.Second, "the fedmsg_source_down alarm of fedmsg-gone", func() (bool, string) {
		resp, err := http.Get("http://" + addr + "/api/v1/alarms?all")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		var r struct {
			Alarms map[string]struct {
				Name, Chart, Status string
			} `json:"alarms"`
		}
		b, _ := io.ReadAll(resp.Body)
		json.Unmarshal(b, &r)
		names := map[string]bool{}
		raised := false
		for _, a := range r.Alarms {
			names[a.Name] = true
			if a.Name == "fedmsg_source_down" && a.Chart == "fedmsg.fedmsg_gone_up" && a.Status == "CRITICAL" {
				raised = true
			}
		}
		return raised && names["fedmsg_expected_wait"] && names["fedmsg_stalled"] && names["fedmsg_oldest_message"] && names["fedmsg_backlog_growing"], string(b)
	})
	if out, err := exec.Command("pgrep", "-f", "fedmsg.plugin 1").Output(); err != nil || len(out) == 0 {
		t.Errorf("the plugin does not run as fedmsg.plugin with update_every 1: %v", err)
	}
}
