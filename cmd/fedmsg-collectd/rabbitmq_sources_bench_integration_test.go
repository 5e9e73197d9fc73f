package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// BenchmarkRabbitMQSourcesIntegration measures, side by side on one
// broker, what each RabbitMQ source costs: with 1000 queues (each with
// messages in and out, so the per-channel families have a row per
// queue), the broker's CPU over idle while the plugin polls it every
// 10 s through the management API, then through the Prometheus
// listener (two windows each, in the order idle, management,
// Prometheus, Prometheus, management, idle); then, with 10000 queues,
// the plugin's own CPU and RSS with each source. It prints RABBITCOST and RABBITSCALE lines for
// scripts/bench; each window is FEDMSG_BENCH_WINDOW (default 20s), after
// 12 s of the plugin's first polls. It asserts the targets: the
// Prometheus source costs the broker at most a third of the management
// source, and at 10000 queues the plugin holds at most 64 MiB and uses
// under 2 % of a core. FEDMSG_BENCH_ONLY=scale measures only the latter.
func BenchmarkRabbitMQSourcesIntegration(b *testing.B) {
	var t testing.TB = b
	testhub.Integration(t)
	window := 20 * time.Second
	if w, err := time.ParseDuration(os.Getenv("FEDMSG_BENCH_WINDOW")); err == nil {
		window = w
	}
	br, err := launchRabbitMQWith(t.TempDir(), rabbitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer br.stop()
	conn, _ := dialRabbitMQ(t, br)
	ch, _ := conn.Channel()
	declare := func(from, to int) {
		for i := from; i < to; i++ {
			q := fmt.Sprintf("queue.%05d", i)
			if _, err := ch.QueueDeclare(q, false, false, false, false, nil); err != nil {
				t.Fatal(err)
			}
			ch.Publish("", q, false, false, amqp.Publishing{Body: []byte("x")})
			ch.Publish("", q, false, false, amqp.Publishing{Body: []byte("y")})
			if m, ok, _ := ch.Get(q, false); ok {
				m.Ack(false)
			}
		}
	}
	declare(0, 1000)
	bin := filepath.Join(buildPlugin(t), "fedmsg-collectd")
	// run runs the plugin with a source's flags over the window, and
	// returns the broker's CPU seconds a minute, the plugin's CPU share
	// and its RSS.
	run := func(args ...string) (broker, plugin, rss float64) {
		var cmd *exec.Cmd
		if len(args) > 0 {
			cmd = exec.Command(bin, append(args, "--rabbitmq-interval", "10s", "--hostname", "bench")...)
			out, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go io.Copy(io.Discard, out)
			defer func() { cmd.Process.Kill(); cmd.Wait() }()
		}
		time.Sleep(12 * time.Second) // the first polls: not what it costs to run
		b0 := groupCPU(br.pgid)
		var c0 int64
		if cmd != nil {
			c0 = cpuNanos(t, cmd.Process.Pid)
		}
		// RSS once a second: its median over the window (a single
		// reading lands anywhere between two garbage collections).
		var rsss []float64
		for end := time.Now().Add(window); time.Now().Before(end); {
			time.Sleep(time.Second) // pacing the readings
			if cmd != nil {
				rsss = append(rsss, vmRSS(t, cmd.Process.Pid))
			}
		}
		broker = (groupCPU(br.pgid) - b0) / window.Minutes()
		if cmd != nil {
			plugin = 100 * float64(cpuNanos(t, cmd.Process.Pid)-c0) / float64(window.Nanoseconds())
			slices.Sort(rsss)
			rss = rsss[len(rsss)/2]
		}
		return broker, plugin, rss
	}
	mgmtArgs := []string{"--rabbitmq", "http://guest:guest@" + br.mgmt}
	promArgs := []string{"--rabbitmq-prometheus", "http://" + br.prom}
	// Windows in the order idle, management, Prometheus, Prometheus,
	// management, idle, so that a drift of the broker's own load over
	// the run weighs the same on each; each kind's figure is the mean of
	// its two windows.
	var idle, mb, mp, mr, pb, pp, pr float64
	kinds := []string{"idle", "management", "prometheus", "prometheus", "management", "idle"}
	if os.Getenv("FEDMSG_BENCH_ONLY") == "scale" {
		kinds = nil // only the 10000 queues
	}
	for _, kind := range kinds {
		switch kind {
		case "idle":
			b, _, _ := run()
			idle += b / 2
		case "management":
			b, p, r := run(mgmtArgs...)
			mb, mp, mr = mb+b/2, mp+p/2, max(mr, r)
		case "prometheus":
			b, p, r := run(promArgs...)
			pb, pp, pr = pb+b/2, pp+p/2, max(pr, r)
		}
	}
	if kinds != nil {
		fmt.Printf("RABBITCOST queues 1000 window %v idle %.3f management %.3f prometheus %.3f (broker CPU s/min); over idle %.3f and %.3f, ratio %.2f; plugin %.3f %% %.1f MiB and %.3f %% %.1f MiB\n",
			window, idle, mb, pb, mb-idle, pb-idle, (pb-idle)/(mb-idle), mp, mr, pp, pr)
		if pb-idle > (mb-idle)/3 {
			t.Errorf("the Prometheus source costs the broker %.3f s a minute over idle, the management source %.3f: more than a third", pb-idle, mb-idle)
		}
	}
	declare(1000, 10000)
	for _, src := range []struct {
		name string
		args []string
	}{{"management", mgmtArgs}, {"prometheus", promArgs}} {
		_, cpu, rss := run(src.args...)
		fmt.Printf("RABBITSCALE queues 10000 %s plugin %.3f %% CPU %.1f MiB RSS (median)\n", src.name, cpu, rss)
		if cpu >= 2 || rss > 64 {
			t.Errorf("%s source at 10000 queues: %.3f %% of a core, %.1f MiB", src.name, cpu, rss)
		}
	}
}

// groupCPU is the CPU seconds of the processes of a process group.
func groupCPU(pgid int) float64 {
	ents, _ := os.ReadDir("/proc")
	var ticks float64
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) < 13 {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g != pgid {
			continue
		}
		u, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		ticks += u + st
	}
	return ticks / 100 // USER_HZ
}
