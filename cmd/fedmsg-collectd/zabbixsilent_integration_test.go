package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// TestZabbixSilentIntegration: both templates' triggers on sources and on
// fedmsg-collectd itself, each driven into PROBLEM and back to OK on a
// host of each (the trapper's, pushed to; the agent's, read by Debian's
// zabbix_agentd): a counters service that fails its polls is down, with
// its reason as the trigger's operational data, and up again once it
// answers; fedmsg-collectd stopped leaves every service and itself
// silent for {$FEDMSG.NODATA} (30 s here), and a consumer's trigger that
// was in PROBLEM lets go (its items have no values), started again they
// are not silent;
// started with a buffer too small for an interval's values, the push
// drops values, and started again as usual it does not.
func TestZabbixSilentIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	macros := map[string]string{"{$FEDMSG.NODATA}": "30s", "{$FEDMSG.BACKLOG.WARN}": "1"}
	z, trapperID := zabbixTestHost(t, "silent", macros)
	agentTpl, groupID := sharedZ.agentTpl, sharedZ.group
	listen := "127.0.0.1:" + freePortForCheck(t)
	hosts := map[string]string{"silent": trapperID,
		"silentagent": agentHost(t, z, "silentagent", startAgent(t, z, "silentagent", ""), listen, agentTpl, groupID, macros, nil)}

	// A hub, and a counters service that can be made to fail.
	dir := t.TempDir()
	msg := filepath.Join(dir, "0.json")
	os.WriteFile(msg, []byte(`{"consumers": [{"name": "C", "module": "m", "topic": "t", "initialized": true, "exceptions": 0,
	  "backlog": 3, "headcount_in": 5, "headcount_out": 5, "times": [0.1]}], "producers": []}`), 0o644)
	ep := "ipc://" + filepath.Join(dir, "monitoring-fedmsg-hub.socket")
	testhub.Start(t, ep, 500*time.Millisecond, msg)
	var failing atomic.Bool
	start := time.Now()
	counters := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "down for the test", http.StatusServiceUnavailable)
			return
		}
		s := time.Since(start).Seconds()
		fmt.Fprintf(w, `{"In": %d, "Out": %d}`, int(10*s), int(9*s))
	}))
	defer counters.Close()

	// The two commands, each started, stopped and started again.
	var out testhub.Buffer
	type running struct {
		cancel context.CancelFunc
		done   chan int
	}
	launch := func(extra ...string) running {
		ctx, cancel := context.WithCancel(context.Background())
		r := running{cancel, make(chan int, 1)}
		args := append([]string{"zabbix", "--socket-dir=", "--endpoint", "fedmsg-hub=" + ep, "--counters", "stages=" + counters.URL,
			"--counters-interval", "1s", "--idle-periods", "1", "--interval", "1s"}, extra...)
		go func() { r.done <- run(ctx, args, &out, &out) }()
		return r
	}
	stop := func(rs ...running) {
		for _, r := range rs {
			r.cancel()
			if code := <-r.done; code != 0 {
				t.Errorf("zabbix exit %d:\n%s", code, out.String())
			}
		}
	}
	pusher, server := launch("--zabbix-server", z.trapper, "--zabbix-host", "silent", "--zabbix-heartbeat", "5s"), launch("--zabbix-listen", listen)

	onBoth := func(ws ...string) []string {
		var all []string
		for _, w := range ws {
			all = append(all, "silent: "+w, "silentagent: "+w)
		}
		return all
	}
	until := func(what string, within time.Duration, in, out []string) {
		t.Helper()
		eventuallyEvery(t, within, zabbixPoll, what, func() (bool, string) {
			p := z.problems(t, hosts)
			for _, w := range in {
				if !strings.Contains(p, w) {
					return false, p
				}
			}
			for _, w := range out {
				if strings.Contains(p, w) {
					return false, p
				}
			}
			return true, ""
		})
	}
	reason := func(host string) string {
		var items []struct{ Lastvalue string }
		z.must(t, "item.get", map[string]any{"hostids": hosts[host], "filter": map[string]any{"key_": `fedmsg.hub.reason["stages"]`},
			"output": []string{"lastvalue"}}, &items)
		if len(items) != 1 {
			return ""
		}
		return items[0].Lastvalue
	}
	eventuallyEvery(t, 90*time.Second, zabbixPoll, "both hosts' items made and valued", func() (bool, string) {
		var n int
		for _, id := range hosts {
			var items []struct{ Lastclock string }
			z.must(t, "item.get", map[string]any{"hostids": id, "filter": map[string]any{"key_": `fedmsg.hub.up["stages"]`},
				"output": []string{"lastclock"}}, &items)
			if len(items) == 1 && items[0].Lastclock != "0" {
				n++
			}
		}
		return n == 2, fmt.Sprint(n)
	})

	// A consumer's trigger, while its values come.
	over := onBoth("fedmsg-hub C: over 1 messages wait")
	until("C's backlog over its threshold", 60*time.Second, over, nil)

	// The counters service fails: down, and why.
	failing.Store(true)
	down := onBoth("stages is down: its snapshots stopped arriving")
	until("the failing service down", 60*time.Second, down, nil)
	for host := range hosts {
		if r := reason(host); !strings.Contains(r, "503") && !strings.Contains(r, "Service Unavailable") {
			t.Errorf("%s: the down service's reason %q does not say why", host, r)
		}
	}
	failing.Store(false)
	until("the service up again", 60*time.Second, nil, down)

	// fedmsg-collectd stopped: every service and itself silent.
	stop(pusher, server)
	silent := onBoth("fedmsg-hub is silent: nothing about it for 30s", "stages is silent: nothing about it for 30s")
	silent = append(silent, "silent: fedmsg-collectd is silent: no values for 30s",
		"silentagent: fedmsg-collectd is silent: the agent has read no values for 30s")
	// A consumer without values lets its triggers go: a queue deleted
	// does not stay in PROBLEM for the rules' lifetime.
	until("everything silent, C's trigger let go", 120*time.Second, silent, over)

	// Started again, the push through a forwarder that refuses it for a
	// few seconds, with a buffer of 50 values: no longer silent once it
	// passes, and it dropped values (a PROBLEM), then drops no more (OK).
	fw := newForwarder(t, z.trapper)
	fw.paused.Store(true)
	pusher = launch("--zabbix-server", fw.addr, "--zabbix-host", "silent", "--zabbix-buffer", "50", "--zabbix-heartbeat", "5s")
	server = launch("--zabbix-listen", listen)
	eventually(t, 30*time.Second, "the push refused", func() (bool, string) {
		return strings.Contains(out.String(), "cannot push to the Zabbix server"), out.String()
	})
	time.Sleep(3 * time.Second) // pacing: the outage's length, in which the buffer overflows
	fw.paused.Store(false)
	dropping := "silent: fedmsg-collectd dropped values: the Zabbix server did not take them in time"
	until("no longer silent", 90*time.Second, nil, silent)
	eventuallyEvery(t, 60*time.Second, zabbixPoll, "the drops a PROBLEM, then OK", func() (bool, string) {
		var events []struct{ Name string }
		z.must(t, "event.get", map[string]any{"hostids": trapperID, "source": 0, "object": 0, "value": 1, "output": []string{"name"},
			"search": map[string]any{"name": "dropped values"}}, &events)
		return len(events) > 0 && !strings.Contains(z.problems(t, hosts), dropping), fmt.Sprint(events, "\n", z.problems(t, hosts))
	})
	stop(pusher, server)
}

// forwarder passes TCP connections on to a server, or while paused closes
// them at once.
type forwarder struct {
	addr   string
	paused atomic.Bool
}

func newForwarder(t *testing.T, to string) *forwarder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	f := &forwarder{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if f.paused.Load() {
				c.Close()
				continue
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", to)
				if err != nil {
					return
				}
				defer s.Close()
				go io.Copy(s, c)
				io.Copy(c, s)
			}()
		}
	}()
	return f
}
