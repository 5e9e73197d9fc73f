package main

import (
	"os"
	"sync"
	"testing"

	"github.com/fedora-infra/fedmsg-collectd/internal/sink/zabbix"
)

// sharedZ is the Zabbix server the Zabbix tests share: PostgreSQL, the
// server and PHP are 15-25 s of CPU to start and a steady load after, so
// the tests run side by side on one, each on hosts of its own names. It
// has a TLS of its own (certificates made for it) and both templates
// imported. It is stopped by TestMain (stopShared).
var sharedZ struct {
	once     sync.Once
	z        *zabbixServer
	client   *zabbixTLS // certificates of a client its CA signed
	tpl      string     // the trapper template's id
	agentTpl string     // the agent template's id
	group    string     // the id of the group Linux servers
	stop     []func()   // in the order to call
}

// sharedZabbix returns the shared Zabbix server, started on first use;
// the ends of its logs are shown when t fails.
func sharedZabbix(t testing.TB) *zabbixServer {
	t.Helper()
	sharedZ.once.Do(func() {
		// Started with t, whose failure says why when it cannot be.
		dir, err := os.MkdirTemp("", "fedmsg-zabbix-certs-")
		if err != nil {
			t.Fatal(err)
		}
		keep := func(f func()) { sharedZ.stop = append([]func(){f}, sharedZ.stop...) }
		keep(func() { os.RemoveAll(dir) })
		server, client := makeCerts(t, dir)
		z := launchZabbix(t, server, keep)
		tpl, group := importTemplate(t, z)
		agentTpl, _ := importPrinted(t, z, zabbix.AgentTemplateName, "zabbix", "--template", "--zabbix-listen", zabbix.DefaultListen)
		sharedZ.z, sharedZ.client, sharedZ.tpl, sharedZ.agentTpl, sharedZ.group = z, client, tpl, agentTpl, group
	})
	if sharedZ.z == nil {
		t.Fatal("the shared Zabbix server did not start: the first test to use it says why")
	}
	sharedZ.z.logOnFailure(t)
	return sharedZ.z
}

// stopSharedZabbix stops the shared Zabbix server, if it was started.
func stopSharedZabbix() {
	for _, f := range sharedZ.stop {
		f()
	}
}

// zabbixTestHost makes a host of that name on the shared Zabbix server,
// linked to the trapper template, with its macros, and returns the server
// and the host's id. The macros come with the host, in one call: the
// server, whose configuration cache is refreshed every 3 s, could
// otherwise know the host and take its discovery before its macros (a
// cold run's discovery ignored the LLD filter macro so).
func zabbixTestHost(t testing.TB, host string, macros map[string]string) (*zabbixServer, string) {
	t.Helper()
	z := sharedZabbix(t)
	ms := []any{}
	for m, v := range macros {
		ms = append(ms, map[string]string{"macro": m, "value": v})
	}
	var made struct{ Hostids []string }
	z.must(t, "host.create", map[string]any{"host": host, "groups": []any{map[string]string{"groupid": sharedZ.group}},
		"templates": []any{map[string]string{"templateid": sharedZ.tpl}}, "macros": ms}, &made)
	return z, made.Hostids[0]
}
