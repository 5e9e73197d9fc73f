package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// startAgent starts Debian's zabbix_agentd beside z on a port of its own,
// for passive checks from z's server, with the configuration lines extra
// (its TLS); it is stopped when the test ends. It returns the port.
func startAgent(t testing.TB, z *zabbixServer, hostname, extra string) string {
	t.Helper()
	if _, err := os.Stat("/usr/sbin/zabbix_agentd"); err != nil {
		t.Fatal("zabbix_agentd is missing (scripts/test installs zabbix-agent)")
	}
	dir, err := os.MkdirTemp("", "fedmsg-zabbix-agent-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	port := lowPort(t) // ListenPort takes 1024-32767
	conf := filepath.Join(dir, "zabbix_agentd.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`Server=127.0.0.1
ListenIP=127.0.0.1
ListenPort=%s
Hostname=%s
LogType=console
PidFile=%s/zabbix_agentd.pid
AllowRoot=1
StartAgents=2
Timeout=10
%s`, port, hostname, dir, extra)), 0o644)
	name := "zabbix_agentd-" + hostname
	z.start(t, t.Cleanup, name, &syscall.SysProcAttr{Setpgid: true}, "/usr/sbin/zabbix_agentd", "-f", "-c", conf)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(z.dir, name+".log"))
			t.Logf("%s's log:\n%s", name, b)
		}
	})
	return port
}

// agentHost makes a host of z read through the agent on port, with the
// template templateID linked, the agent template's macros for the
// document at listen read every 2 s, the macros given, and the host's
// side of the agent's TLS (tls, nil for none). It returns the host's id.
func agentHost(t testing.TB, z *zabbixServer, name, port, listen, templateID, groupID string, macros map[string]string, tls map[string]any) string {
	t.Helper()
	ms := []any{map[string]string{"macro": "{$FEDMSG.AGENT.URL}", "value": "http://" + listen + "/"},
		map[string]string{"macro": "{$FEDMSG.AGENT.INTERVAL}", "value": "2s"}}
	for m, v := range macros {
		ms = append(ms, map[string]string{"macro": m, "value": v})
	}
	params := map[string]any{"host": name, "groups": []any{map[string]string{"groupid": groupID}},
		"templates":  []any{map[string]string{"templateid": templateID}},
		"interfaces": []any{map[string]any{"type": 1, "main": 1, "useip": 1, "ip": "127.0.0.1", "dns": "", "port": port}},
		"macros":     ms}
	for k, v := range tls {
		params[k] = v
	}
	var made struct{ Hostids []string }
	z.must(t, "host.create", params, &made)
	return made.Hostids[0]
}
