package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/sink/zabbix"
	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// BenchmarkZabbixBufferIntegration measures, side by side over one
// window, the CPU of two zabbix commands pushing the same 10 simulated
// hubs of 50 consumers: one to Debian's Zabbix server with the template
// linked, one to a server that is down, its buffer (2000 values) full
// and dropping its oldest value for each new one; and beside them run
// (collectd's plugin, its output read from a pipe as collectd reads it) on
// the same hubs. It prints
// ZABBIXCOST (down against up) and ZABBIXPUSH (up against run) for
// scripts/bench; the window is FEDMSG_BENCH_WINDOW (default 20s).
//
// A benchmark, not a test: it runs once whatever b.N, from scripts/bench.
func BenchmarkZabbixBufferIntegration(b *testing.B) {
	var t testing.TB = b
	testhub.Integration(t)
	z, _ := zabbixWithHost(t, "bench")
	bin := filepath.Join(buildPlugin(t), "fedmsg-collectd")
	dir, err := os.MkdirTemp("", "fedmsg-zabbixcost-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sim := []string{"simulate", "--consumers", "50", "--period", "5s"}
	for i := range 10 {
		sim = append(sim, "--bind", fmt.Sprintf("ipc://%s/monitoring-hub%02d.socket", dir, i))
	}
	start := func(args ...string) *exec.Cmd {
		c := exec.Command(bin, args...)
		if args[0] == "run" {
			// Its stdout a pipe that is read, as under collectd.
			out, err := c.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			go io.Copy(io.Discard, out)
		}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
		return c
	}
	start(sim...)
	eventually(t, 10*time.Second, "10 sockets", func() (bool, string) {
		m, _ := filepath.Glob(dir + "/*.socket")
		return len(m) == 10, fmt.Sprint(len(m))
	})
	common := []string{"zabbix", "--socket-dir", dir, "--zabbix-host", "bench", "--interval", "10s", "--zabbix-buffer", "2000"}
	up := start(append(common, "--zabbix-server", z.trapper)...)
	down := start(append(common, "--zabbix-server", "127.0.0.1:"+freePortForCheck(t))...)
	plugin := start("run", "--socket-dir", dir, "--interval", "10s", "--hostname", "bench")
	window := benchWindow()
	time.Sleep(15 * time.Second) // discovery made, the buffer full: not what it costs to run
	u0, d0, r0 := cpuNanos(t, up.Process.Pid), cpuNanos(t, down.Process.Pid), cpuNanos(t, plugin.Process.Pid)
	time.Sleep(window)
	u1, d1, r1 := cpuNanos(t, up.Process.Pid), cpuNanos(t, down.Process.Pid), cpuNanos(t, plugin.Process.Pid)
	pct := func(ns int64) float64 { return 100 * float64(ns) / float64(window.Nanoseconds()) }
	fmt.Printf("ZABBIXCOST up %.3f %% CPU, down with its buffer full %.3f %% CPU over %v: ratio %.2f; RSS %.1f / %.1f MiB\n",
		pct(u1-u0), pct(d1-d0), window, float64(d1-d0)/float64(u1-u0), vmRSS(t, up.Process.Pid), vmRSS(t, down.Process.Pid))
	fmt.Printf("ZABBIXPUSH push %.3f %% CPU, run %.3f %% CPU over %v: ratio %.2f\n",
		pct(u1-u0), pct(r1-r0), window, float64(u1-u0)/float64(r1-r0))
}

// zabbixWithHost starts Debian's Zabbix server with the template imported
// and a host of that name linked to it, and returns the host's id.
func zabbixWithHost(t testing.TB, host string) (*zabbixServer, string) {
	t.Helper()
	z := startZabbix(t, nil)
	tplID, groupID := importTemplate(t, z)
	var made struct{ Hostids []string }
	z.must(t, "host.create", map[string]any{"host": host, "groups": []any{map[string]string{"groupid": groupID}},
		"templates": []any{map[string]string{"templateid": tplID}}}, &made)
	return z, made.Hostids[0]
}

// importTemplate imports the template "zabbix --template" prints into z,
// and returns its id and that of the group Linux servers.
func importTemplate(t testing.TB, z *zabbixServer) (templateID, groupID string) {
	t.Helper()
	return importPrinted(t, z, zabbix.TemplateName, "zabbix", "--template")
}

// importPrinted imports the template named name that the command args
// print.
func importPrinted(t testing.TB, z *zabbixServer, name string, args ...string) (templateID, groupID string) {
	t.Helper()
	var tpl, errs testhub.Buffer
	if code := run(t.Context(), args, &tpl, &errs); code != 0 {
		t.Fatalf("zabbix --template: exit %d: %s", code, errs.String())
	}
	z.must(t, "configuration.import", map[string]any{"format": "yaml", "source": tpl.String(), "rules": map[string]any{
		"groups":         map[string]bool{"createMissing": true},
		"templates":      map[string]bool{"createMissing": true, "updateExisting": true},
		"items":          map[string]bool{"createMissing": true, "updateExisting": true},
		"discoveryRules": map[string]bool{"createMissing": true, "updateExisting": true},
		"triggers":       map[string]bool{"createMissing": true, "updateExisting": true},
		"graphs":         map[string]bool{"createMissing": true, "updateExisting": true},
	}}, nil)
	var tpls []struct{ Templateid string }
	z.must(t, "template.get", map[string]any{"filter": map[string]any{"host": []string{name}}}, &tpls)
	var groups []struct{ Groupid string }
	z.must(t, "hostgroup.get", map[string]any{"filter": map[string]any{"name": []string{"Linux servers"}}}, &groups)
	if len(tpls) != 1 || len(groups) != 1 {
		t.Fatalf("template %v, group %v", tpls, groups)
	}
	return tpls[0].Templateid, groups[0].Groupid
}
