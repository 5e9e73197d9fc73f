package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// TestZabbixAgentPSKIntegration: the agent mode through Debian's
// zabbix_agentd, which takes only PSK from the server, to Debian's Zabbix
// server with the agent template imported. The host the server reaches
// with the PSK gets its items discovered and valued from the hub's
// figures, and its triggers fire; a host that reaches the same agent
// unencrypted gets nothing.
func TestZabbixAgentPSKIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	z := sharedZabbix(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tplID, groupID := sharedZ.agentTpl, sharedZ.group

	// A hub whose FMNConsumer has 42 then 40 messages waiting, and a hub
	// nothing publishes on; fedmsg-collectd serving their values.
	dir := t.TempDir()
	var files []string
	for i, backlog := range []int{42, 40} {
		files = append(files, filepath.Join(dir, fmt.Sprint(i, ".json")))
		os.WriteFile(files[i], []byte(fmt.Sprintf(`{"consumers": [{"name": "FMNConsumer", "module": "fmn.consumer", "topic": "t",
		  "initialized": true, "exceptions": 0, "backlog": %d, "headcount_in": 25, "headcount_out": 20, "times": [%s]}], "producers": []}`,
			backlog, strings.TrimSuffix(strings.Repeat("0.1, ", 20), ", "))), 0o644)
	}
	ep := "ipc://" + filepath.Join(dir, "monitoring-fedmsg-hub.socket")
	testhub.Start(t, ep, 500*time.Millisecond, files...)
	listen := "127.0.0.1:" + freePortForCheck(t)
	var out testhub.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"zabbix", "--socket-dir=", "--endpoint", "fedmsg-hub=" + ep, "--endpoint",
			"fedmsg-gone=tcp://127.0.0.1:" + freePortForCheck(t), "--zabbix-listen", listen, "--interval", "1s"}, &out, &out)
	}()

	// The agent: passive checks from the server, PSK only.
	key := make([]byte, 32)
	rand.Read(key)
	psk := hex.EncodeToString(key)
	pskFile := filepath.Join(t.TempDir(), "agent.psk")
	os.WriteFile(pskFile, []byte(psk+"\n"), 0o600)
	agentPort := startAgent(t, z, "pskhost", "TLSAccept=psk\nTLSConnect=psk\nTLSPSKIdentity=fedmsg-test\nTLSPSKFile="+pskFile+"\n")
	wait := map[string]string{`{$FEDMSG.WAIT.WARN:"FMNConsumer"}`: "0.5"}
	hostids := map[string]string{
		"pskhost": agentHost(t, z, "pskhost", agentPort, listen, tplID, groupID, wait,
			map[string]any{"tls_connect": 2, "tls_accept": 2, "tls_psk_identity": "fedmsg-test", "tls_psk": psk}),
		"plainhost": agentHost(t, z, "plainhost", agentPort, listen, tplID, groupID, wait, nil),
	}

	backlog := `fedmsg.consumer.backlog["fedmsg-hub","FMNConsumer"]`
	eventuallyEvery(t, 120*time.Second, zabbixPoll, "pskhost: FMNConsumer's backlog history, through the agent", func() (bool, string) {
		id, ok := z.itemID(t, hostids["pskhost"], backlog)
		if !ok {
			return false, "no item yet"
		}
		vs := z.history(t, id)
		return len(vs) >= 3, fmt.Sprint(vs)
	})
	id, _ := z.itemID(t, hostids["pskhost"], backlog)
	for _, v := range z.history(t, id) {
		if v != 42 && v != 40 {
			t.Errorf("FMNConsumer's backlog history holds %g: the hub published 42 and 40", v)
		}
	}
	eventuallyEvery(t, 60*time.Second, zabbixPoll, "FMNConsumer's wait trigger and the lost hub's in PROBLEM", func() (bool, string) {
		p := z.problems(t, map[string]string{"pskhost": hostids["pskhost"]})
		return strings.Contains(p, "fedmsg-hub FMNConsumer: a message arriving now waits over 0.5 s") &&
			strings.Contains(p, "fedmsg-gone is down"), p
	})
	// The same agent, reached unencrypted: refused, and nothing read.
	eventually(t, 60*time.Second, "the agent refused the server unencrypted", func() (bool, string) {
		b, _ := os.ReadFile(filepath.Join(z.dir, "zabbix_agentd-pskhost.log"))
		return strings.Contains(string(b), "not allowed"), string(b)
	})
	if _, ok := z.itemID(t, hostids["plainhost"], backlog); ok {
		t.Error("the host that reaches the agent unencrypted has its consumers discovered")
	}
	cancel()
	if code := <-done; code != 0 || strings.Contains(out.String(), "level=ERROR") {
		t.Errorf("zabbix --zabbix-listen: exit %d:\n%s", code, out.String())
	}
}
