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
// Prometheus, Prometheus, management, idle), the queues idle, then with
// messages through 10 of them; then, with 10000 queues, the plugin's own
// CPU and RSS with each source. It prints RABBITCOST, RABBITREQS (the
// management source's requests by kind, counted by a proxy in front of
// the API) and RABBITSCALE lines for scripts/bench; each window is
// FEDMSG_BENCH_WINDOW (default 20s), after 12 s of the plugin's first
// polls. It asserts the issues' targets: each source costs the broker at
// most 1.2 s a minute over idle at 1000 queues, idle or with traffic; and
// at 10000 queues the plugin holds at most 64 MiB and uses under 2 % of
// a core.
// FEDMSG_BENCH_ONLY=scale measures only the latter.
func BenchmarkRabbitMQSourcesIntegration(b *testing.B) {
	var t testing.TB = b
	testhub.Integration(t)
	window := benchWindow()
	br, declare := benchBroker(t)
	defer br.stop()
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
	// The management source through a proxy that counts its requests.
	proxy, counts := countingProxy(t, br.mgmt)
	mgmtArgs := []string{"--rabbitmq", "http://guest:guest@" + proxy}
	promArgs := []string{"--rabbitmq-prometheus", "http://" + br.prom}
	// compare measures both sources on the 1000 queues: windows in the
	// order idle, management, Prometheus, Prometheus, management, idle,
	// so that a drift of the broker's own load over the run weighs the
	// same on each; each kind's figure is the mean of its two windows.
	compare := func(traffic string) (mgmt, prom float64) {
		var idle, mb, mp, mr, pb, pp, pr float64
		counts.Lock()
		counts.lists, counts.pages, counts.lives, counts.overviews = 0, 0, 0, 0
		counts.Unlock()
		for _, kind := range []string{"idle", "management", "prometheus", "prometheus", "management", "idle"} {
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
		fmt.Printf("RABBITCOST queues 1000 traffic %s window %v idle %.3f management %.3f prometheus %.3f (broker CPU s/min); over idle %.3f and %.3f, ratio %.2f; plugin %.3f %% %.1f MiB and %.3f %% %.1f MiB\n",
			traffic, window, idle, mb, pb, mb-idle, pb-idle, (pb-idle)/(mb-idle), mp, mr, pp, pr)
		counts.Lock()
		fmt.Printf("RABBITREQS traffic %s management source's requests over its windows and first polls: overviews %d lists %d pages %d lengths %d\n",
			traffic, counts.overviews, counts.lists, counts.pages, counts.lives)
		counts.Unlock()
		return mb - idle, pb - idle
	}
	if os.Getenv("FEDMSG_BENCH_ONLY") != "scale" {
		// The queues idle: the management source asks for the lengths
		// now only when the statistics moved (issue: at most +1.2 s/min).
		if mgmt, _ := compare("none"); mgmt > 1.2 {
			t.Errorf("the management source costs the broker %.3f s a minute over idle at 1000 idle queues: more than 1.2", mgmt)
		}
		// Messages through 10 of them: between lists of every queue the
		// management source asks about those 10 by name (issue: at most
		// +1.2 s/min too).
		stop := make(chan struct{})
		done := trafficThrough(t, br, 10, stop)
		mgmt, prom := compare("10-queues")
		close(stop)
		<-done
		if mgmt > 1.2 || prom > 1.2 {
			t.Errorf("with traffic, the management source costs the broker %.3f s a minute over idle, the Prometheus source %.3f: more than 1.2", mgmt, prom)
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

// benchWindow is FEDMSG_BENCH_WINDOW, default 20 s: how long a benchmark
// measures each of its windows.
func benchWindow() time.Duration {
	if w, err := time.ParseDuration(os.Getenv("FEDMSG_BENCH_WINDOW")); err == nil {
		return w
	}
	return 20 * time.Second
}

// benchBroker starts a broker of the benchmark's own; declare makes its
// queues queue.FROM to queue.TO-1, each of which has had messages in and
// out (so the per-channel families have a row per queue) and holds one.
func benchBroker(t testing.TB) (br *rabbitBroker, declare func(from, to int)) {
	br, err := launchRabbitMQWith(t.TempDir(), rabbitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	conn, _ := dialRabbitMQ(t, br)
	ch, _ := conn.Channel()
	return br, func(from, to int) {
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
}

// trafficThrough publishes 20 messages a second spread over the first n
// queues of the bench, and consumes them, until stop is closed; done is
// closed once it has stopped.
func trafficThrough(t testing.TB, br *rabbitBroker, n int, stop chan struct{}) (done chan struct{}) {
	conn, _ := dialRabbitMQ(t, br)
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		msgs, err := ch.Consume(fmt.Sprintf("queue.%05d", i), "", true, false, false, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for range msgs {
			}
		}()
	}
	pub, _ := conn.Channel()
	done = make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				conn.Close()
				return
			case <-tick.C:
				pub.Publish("", fmt.Sprintf("queue.%05d", i%n), false, false, amqp.Publishing{Body: []byte("t")})
			}
		}
	}()
	return done
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
