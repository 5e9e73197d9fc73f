package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// rabbitBroker is Debian's rabbitmq-server run on loopback with its own
// node name, ports, data directory and epmd, with the management plugin.
type rabbitBroker struct {
	mgmt, amqpURL, log string
	stop               func()
}

// launchRabbitMQ starts a broker in dir and waits for its management API.
func launchRabbitMQ(dir string) (*rabbitBroker, error) {
	const server = "/usr/lib/rabbitmq/bin/rabbitmq-server"
	if _, err := os.Stat(server); err != nil {
		return nil, errors.New("rabbitmq-server is not installed (scripts/test installs Debian's rabbitmq-server)")
	}
	var ports [4]string
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		_, ports[i], _ = net.SplitHostPort(ln.Addr().String())
		ln.Close()
	}
	port, mport, dport, eport := ports[0], ports[1], ports[2], ports[3]
	conf := fmt.Sprintf("listeners.tcp.default = 127.0.0.1:%s\nmanagement.tcp.port = %s\nmanagement.tcp.ip = 127.0.0.1\n", port, mport)
	os.WriteFile(filepath.Join(dir, "rabbitmq.conf"), []byte(conf), 0o644)
	os.WriteFile(filepath.Join(dir, "enabled_plugins"), []byte("[rabbitmq_management].\n"), 0o644)
	env := append(os.Environ(), "HOME="+dir, "RABBITMQ_NODENAME=fedmsgtest"+port+"@localhost",
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1", "RABBITMQ_DIST_PORT="+dport, "ERL_EPMD_PORT="+eport,
		"RABBITMQ_MNESIA_BASE="+filepath.Join(dir, "mnesia"), "RABBITMQ_LOG_BASE="+filepath.Join(dir, "log"),
		"RABBITMQ_CONFIG_FILE="+filepath.Join(dir, "rabbitmq.conf"),
		"RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(dir, "enabled_plugins"), "RABBITMQ_PID_FILE="+filepath.Join(dir, "pid"))
	log, _ := os.Create(filepath.Join(dir, "server.log"))
	cmd := exec.Command(server)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b := &rabbitBroker{mgmt: "127.0.0.1:" + mport, amqpURL: "amqp://guest:guest@127.0.0.1:" + port + "/", log: log.Name()}
	b.stop = func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
		kill := exec.Command("epmd", "-kill") // epmd leaves the process group
		kill.Env = env
		kill.Run()
	}
	last := ""
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get("http://guest:guest@" + b.mgmt + "/api/overview")
		if err != nil {
			last = err.Error()
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			return b, nil
		}
		last = resp.Status
	}
	b.stop()
	out, _ := os.ReadFile(b.log)
	return nil, fmt.Errorf("the management API did not answer within 60 s (%s); rabbitmq-server:\n%s", last, out)
}

// startRabbitMQ starts a broker of the test's own, stopped when it ends,
// and returns an AMQP connection to it and the management API's address.
func startRabbitMQ(t testing.TB) (conn *amqp.Connection, mgmt string) {
	t.Helper()
	b, err := launchRabbitMQ(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.stop()
		if t.Failed() {
			out, _ := os.ReadFile(b.log)
			t.Logf("rabbitmq-server:\n%s", out)
		}
	})
	return dialRabbitMQ(t, b)
}

// shared is the broker the RabbitMQ tests share: one broker's start is
// 10-15 s of both cores. It is stopped by TestMain.
var shared struct {
	once sync.Once
	dir  string
	b    *rabbitBroker
	err  error
}

// sharedRabbitMQ returns an AMQP connection of the test's own to the
// shared broker, started on first use, and its management API's address.
// Tests on it use queues, vhosts and users of their own.
func sharedRabbitMQ(t testing.TB) (conn *amqp.Connection, mgmt string) {
	t.Helper()
	shared.once.Do(func() {
		if shared.dir, shared.err = os.MkdirTemp("", "fedmsg-rabbitmq-"); shared.err == nil {
			shared.b, shared.err = launchRabbitMQ(shared.dir)
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("rabbitmq-server's log: %s", shared.b.log)
		}
	})
	return dialRabbitMQ(t, shared.b)
}

// stopShared stops the shared broker, if it was started.
func stopShared() {
	if shared.b != nil {
		shared.b.stop()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
}

func dialRabbitMQ(t testing.TB, b *rabbitBroker) (*amqp.Connection, string) {
	t.Helper()
	conn, err := amqp.Dial(b.amqpURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, b.mgmt
}

// putvals returns the values written for an identifier, with their times.
func putvals(out, ident string) (at, v []float64) {
	re := regexp.MustCompile(regexp.QuoteMeta(ident) + `" interval=\S+ (\S+):(\S+)`)
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		a, _ := strconv.ParseFloat(m[1], 64)
		x, _ := strconv.ParseFloat(m[2], 64)
		at, v = append(at, a), append(v, x)
	}
	return at, v
}

// lastPutval returns the newest value written for an identifier.
func lastPutval(out, ident string) (float64, bool) {
	re := regexp.MustCompile(regexp.QuoteMeta(ident) + `" interval=\S+ \S+:(\S+)`)
	m := re.FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[len(m)-1][1], 64)
	return v, err == nil
}

// TestRabbitMQIntegration: a real broker, a publisher at 30 msg/s and a
// slow consumer at about 15 msg/s build a backlog for 30 s, then it
// drains. The plugin polling the management API writes the backlog the
// broker has, the arrival rate published, an expected wait close to what
// a message published at that moment then waited, and a drain time close
// to when the queue then emptied.
func TestRabbitMQIntegration(t *testing.T) {
	t.Parallel()
	testhub.Integration(t)
	conn, mgmt := sharedRabbitMQ(t)
	pubCh, _ := conn.Channel()
	if _, err := pubCh.QueueDeclare("fmn", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	// A queue nobody consumes: what check_rabbitmq_queue never alerts on.
	if _, err := pubCh.QueueDeclare("orphan", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	pubCh.PublishWithContext(context.Background(), "", "orphan", false, false, amqp.Publishing{Body: []byte("0")})
	subCh, _ := conn.Channel()
	subCh.Qos(1, 0, false)
	deliveries, err := subCh.Consume("fmn", "slow", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The consumer: 66 ms a message; it notes each message's wait from
	// its publication to its delivery.
	var (
		mu        sync.Mutex
		waits     = map[int64]float64{} // published (unix ms) -> wait (s)
		pubs      []float64             // publication times, in order
		delivered []float64             // delivery times, in order
		got       int
		lastAt    time.Time // when the latest message was delivered
	)
	go func() {
		for d := range deliveries {
			pub, _ := strconv.ParseInt(string(d.Body), 10, 64)
			mu.Lock()
			waits[pub] = float64(time.Now().UnixMilli()-pub) / 1000
			delivered = append(delivered, float64(time.Now().UnixMilli())/1000)
			got++
			lastAt = time.Now()
			mu.Unlock()
			time.Sleep(66 * time.Millisecond)
			d.Ack(false)
		}
	}()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errs testhub.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--rabbitmq", "http://guest:guest@" + mgmt, "--rabbitmq-interval", "1s",
			"--interval", "1s", "--smoothing", "10s", "--hostname", "h"}, &out, &errs)
	}()

	// The Nagios check, 10 s into the run, while the backlog grows: the
	// queue without consumers is CRITICAL; fmn's expected wait is there.
	checkOut := make(chan string, 1)
	startCheck := func() {
		var o, e testhub.Buffer
		code := run(ctx, []string{"check", "--rabbitmq", "http://guest:guest@" + mgmt, "--queue", "fmn", "--queue", "orphan",
			"--wait-warning", "1000", "--timeout", "40s"}, &o, &e)
		checkOut <- fmt.Sprintf("%d %s%s", code, o.String(), e.String())
	}

	// 30 messages a second for 30 s.
	start := time.Now()
	tick := time.NewTicker(time.Second / 30)
	published := 0
	var depths [][2]float64 // the broker's own depth, when asked
	for time.Since(start) < 30*time.Second {
		<-tick.C
		ms := time.Now().UnixMilli()
		body := strconv.FormatInt(ms, 10)
		mu.Lock()
		pubs = append(pubs, float64(ms)/1000)
		mu.Unlock()
		if err := pubCh.PublishWithContext(ctx, "", "fmn", false, false, amqp.Publishing{Body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
		published++
		if published == 300 {
			go startCheck()
		}
		if published%150 == 0 {
			depths = append(depths, [2]float64{float64(time.Now().UnixMilli()) / 1000, brokerDepth(t, mgmt)})
		}
	}
	tick.Stop()
	stop := time.Now()
	if c := <-checkOut; !strings.HasPrefix(c, "2 FEDMSG CRITICAL - orphan consumers 0") || !strings.Contains(c, "fmn: backlog") || !strings.Contains(c, "fmn expected wait") && !strings.Contains(c, "expected wait ") {
		t.Errorf("check: exit and output %q", c)
	} else {
		t.Logf("check: %s", c)
	}
	eventually(t, 120*time.Second, "the queue drained", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return got == published, fmt.Sprintf("%d of %d delivered", got, published)
	})
	mu.Lock()
	emptied := float64(lastAt.UnixMilli()) / 1000
	mu.Unlock()
	// The plugin writes once more after the queue is empty.
	eventually(t, 20*time.Second, "a snapshot of the empty queue", func() (bool, string) {
		at, v := putvals(out.String(), "h/fedmsg_rabbitmq-default/queue_length-fmn_backlog")
		return len(at) > 0 && at[len(at)-1] > emptied && v[len(v)-1] == 0, "no snapshot of the empty queue"
	})
	cancel()
	<-done
	s := out.String()
	stopAt := float64(stop.UnixMilli()) / 1000

	// Backlog: the broker's depth asked during the run against the value
	// written for the same refresh of its statistics (5 s apart at most).
	bat, bv := putvals(s, "h/fedmsg_rabbitmq-default/queue_length-fmn_backlog")
	for _, d := range depths {
		best := math.Inf(1)
		for i := range bat {
			if math.Abs(bat[i]-d[0]) < 6 {
				best = math.Min(best, math.Abs(bv[i]-d[1]))
			}
		}
		if best > 10 {
			t.Errorf("at %.0f the broker had %v ready; no backlog within 10 of it written within 6 s (%v)", d[0], d[1], bv)
		}
	}
	// Arrival rate: the last written while publishing, 30/s published.
	rat, rv := putvals(s, "h/fedmsg_rabbitmq-default/operations_per_second-fmn_arrival_rate")
	rate := 0.0
	for i := range rat {
		if rat[i] < stopAt {
			rate = rv[i]
		}
	}
	if rate < 25 || rate > 35 {
		t.Errorf("arrival rate %v while publishing 30/s: %v", rate, rv)
	}
	// The broker's statistics describe the queue as it was some seconds
	// before they are read (its queues and its management collector each
	// sample every 5 s). The truth is known: the backlog at any moment is
	// what was published minus what was delivered by then. Each written
	// backlog is matched to the moment it describes, and the expected wait
	// and drain time written with it are checked against that moment.
	mu.Lock()
	defer mu.Unlock()
	trueBacklog := func(t float64) float64 {
		n, _ := slices.BinarySearch(pubs, t)
		m, _ := slices.BinarySearch(delivered, t)
		return float64(n - m)
	}
	described := func(at, backlog float64) float64 {
		best, when := math.Inf(1), at
		for t := at - 15; t <= at; t += 0.05 {
			if d := math.Abs(trueBacklog(t) - backlog); d < best {
				best, when = d, t
			}
		}
		return when
	}
	var lags []float64
	var waitErr, drainErr float64 // the largest relative errors
	wat, wv := putvals(s, "h/fedmsg_rabbitmq-default/duration-fmn_expected_wait")
	checked := 0
	for i := range wat {
		j := slices.Index(bat, wat[i])
		if j < 0 || wv[i] < 5 {
			continue
		}
		when := described(bat[j], bv[j])
		if when > stopAt-1 {
			continue
		}
		lags = append(lags, bat[j]-when)
		var sum float64
		n := 0
		for pub, w := range waits {
			if p := float64(pub) / 1000; p >= when && p < when+1 {
				sum += w
				n++
			}
		}
		if n == 0 {
			continue
		}
		checked++
		seen := sum / float64(n)
		waitErr = math.Max(waitErr, math.Abs(wv[i]-seen)/seen)
		if math.Abs(wv[i]-seen)/seen > 0.3 {
			t.Errorf("expected wait %.1f s at %.1f (describing %.1f); messages published then waited %.1f s", wv[i], wat[i], when, seen)
		}
	}
	if checked < 2 {
		t.Errorf("only %d expected waits to check: %v", checked, wv)
	}
	// Drain time: each written during the drain against when the queue
	// emptied, from the moment it describes.
	dat, dv := putvals(s, "h/fedmsg_rabbitmq-default/duration-fmn_drain_time")
	drains := 0
	for i := range dat {
		j := slices.Index(bat, dat[i])
		if j < 0 {
			continue
		}
		when := described(bat[j], bv[j])
		if when < stopAt+2 || emptied-when < 5 {
			continue
		}
		drains++
		rest := emptied - when
		drainErr = math.Max(drainErr, math.Abs(dv[i]-rest)/rest)
		if math.Abs(dv[i]-rest)/rest > 0.3 {
			t.Errorf("drain time %.1f s at %.1f (describing %.1f); the queue emptied %.1f s later", dv[i], dat[i], when, rest)
		}
	}
	if drains == 0 {
		t.Errorf("no drain time written during the drain: %v at %v (stop %.0f, emptied %.0f)", dv, dat, stopAt, emptied)
	}
	slices.Sort(lags)
	lag := math.NaN()
	if len(lags) > 0 {
		lag = lags[len(lags)/2]
	}
	// A broker answers 500 while it starts: logged, and nothing else.
	for _, l := range strings.Split(strings.TrimSpace(errs.String()), "\n") {
		if l != "" && !strings.Contains(l, "cannot poll the broker") {
			t.Errorf("stderr: %s", l)
		}
	}
	if t.Failed() {
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, "fmn_") {
				t.Log(l)
			}
		}
	}
	t.Logf("published %d in 30 s, arrival rate %.1f/s, %d expected waits (largest error %.0f %%) and %d drain times (%.0f %%) checked; emptied %.0f s after the stop; the broker's figures were %.1f s old (median)",
		published, rate, checked, 100*waitErr, drains, 100*drainErr, emptied-stopAt, lag)
}

// brokerDepth asks the broker for the queue's ready messages.
func brokerDepth(t *testing.T, mgmt string) float64 {
	t.Helper()
	resp, err := http.Get("http://guest:guest@" + mgmt + "/api/queues/%2F/fmn?columns=messages_ready")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var q struct {
		Ready float64 `json:"messages_ready"`
	}
	json.NewDecoder(resp.Body).Decode(&q)
	return q.Ready
}
