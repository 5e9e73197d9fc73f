package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
	amqp "github.com/rabbitmq/amqp091-go"
)

// rabbitBroker is Debian's rabbitmq-server run on loopback with its own
// node name, ports, data directory and epmd, with the management plugin.
type rabbitBroker struct {
	mgmt, amqpURL, log string
	// prom is the address of the Prometheus listener, node the node's
	// name, env its environment (for rabbitmqctl).
	prom, node string
	env        []string
	// pgid is the process group of the broker's processes.
	pgid int
	stop func()
}

// rabbitOptions are what a test asks of its broker beyond the defaults.
type rabbitOptions struct {
	// conf is more lines of rabbitmq.conf.
	conf string
	// join names a running broker this one joins as a cluster node: it
	// shares that one's epmd and Erlang cookie.
	join *rabbitBroker
}

// launchRabbitMQ starts a broker in dir and waits for its management API.
func launchRabbitMQ(dir string) (*rabbitBroker, error) {
	return launchRabbitMQWith(dir, rabbitOptions{})
}

// brokerStarts lets one broker start at a time (launchRabbitMQWith).
var brokerStarts sync.Mutex

// launchRabbitMQWith starts a broker in dir with the management and
// Prometheus plugins, as o asks, and waits for its management API.
func launchRabbitMQWith(dir string, o rabbitOptions) (*rabbitBroker, error) {
	// One broker starts at a time: a start is 10-15 s of both cores, and
	// four at once beside a cold compile took over a minute each.
	brokerStarts.Lock()
	defer brokerStarts.Unlock()
	const server = "/usr/lib/rabbitmq/bin/rabbitmq-server"
	if _, err := os.Stat(server); err != nil {
		return nil, errors.New("rabbitmq-server is not installed (scripts/test installs Debian's rabbitmq-server)")
	}
	// Its ports are found free and closed before it listens on them:
	// another test's server, or an outgoing connection, may take one
	// first, and the broker then stops at once (its Erlang distribution
	// or a listener fails). Started again on others, in a directory of
	// its own.
	for attempt := 1; ; attempt++ {
		sub := filepath.Join(dir, fmt.Sprint("try", attempt))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return nil, err
		}
		b, err := launchRabbitMQOnce(server, sub, o)
		if !errors.Is(err, errBrokerExited) || attempt == 3 {
			return b, err
		}
	}
}

// errBrokerExited is a broker that stopped before it answered.
var errBrokerExited = errors.New("rabbitmq-server stopped before it answered")

// launchRabbitMQOnce starts the broker server in dir, as o asks, and
// waits for its management API.
func launchRabbitMQOnce(server, dir string, o rabbitOptions) (*rabbitBroker, error) {
	var ports [5]string
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		_, ports[i], _ = net.SplitHostPort(ln.Addr().String())
		ln.Close()
	}
	port, mport, dport, eport, pport := ports[0], ports[1], ports[2], ports[3], ports[4]
	home, node := dir, "fedmsgtest"+port+"@localhost"
	conf := fmt.Sprintf("listeners.tcp.default = 127.0.0.1:%s\nmanagement.tcp.port = %s\nmanagement.tcp.ip = 127.0.0.1\n"+
		"prometheus.tcp.port = %s\nprometheus.tcp.ip = 127.0.0.1\n", port, mport, pport)
	if o.join != nil {
		// The same epmd and cookie (in the same HOME) as the node joined;
		// classic peer discovery joins it on the first start.
		home = envOf(o.join.env, "HOME")
		eport = envOf(o.join.env, "ERL_EPMD_PORT")
		conf += "cluster_formation.peer_discovery_backend = classic_config\ncluster_formation.classic_config.nodes.1 = " + o.join.node + "\n"
	}
	conf += o.conf
	os.WriteFile(filepath.Join(dir, "rabbitmq.conf"), []byte(conf), 0o644)
	os.WriteFile(filepath.Join(dir, "enabled_plugins"), []byte("[rabbitmq_management,rabbitmq_prometheus].\n"), 0o644)
	env := append(os.Environ(), "HOME="+home, "RABBITMQ_NODENAME="+node,
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1", "RABBITMQ_DIST_PORT="+dport, "ERL_EPMD_PORT="+eport,
		"RABBITMQ_MNESIA_BASE="+filepath.Join(dir, "mnesia"), "RABBITMQ_LOG_BASE="+filepath.Join(dir, "log"),
		"RABBITMQ_CONFIG_FILE="+filepath.Join(dir, "rabbitmq.conf"),
		"RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(dir, "enabled_plugins"), "RABBITMQ_PID_FILE="+filepath.Join(dir, "pid"),
		"ERL_CRASH_DUMP="+filepath.Join(dir, "erl_crash.dump"))
	log, _ := os.Create(filepath.Join(dir, "server.log"))
	cmd := exec.Command(server)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b := &rabbitBroker{mgmt: "127.0.0.1:" + mport, amqpURL: "amqp://guest:guest@127.0.0.1:" + port + "/", log: log.Name(),
		prom: "127.0.0.1:" + pport, node: node, env: env, pgid: cmd.Process.Pid}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	b.stop = func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		<-exited
		if o.join != nil {
			return // the epmd is the joined node's, killed with it
		}
		kill := exec.Command("epmd", "-kill") // epmd leaves the process group
		kill.Env = env
		kill.Run()
	}
	last := ""
	for deadline := time.Now().Add(120 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		select {
		case <-exited:
			b.stop()
			out, _ := os.ReadFile(b.log)
			return nil, fmt.Errorf("%w:\n%s", errBrokerExited, out)
		default:
		}
		resp, err := http.Get("http://guest:guest@" + b.mgmt + "/api/overview")
		if err != nil {
			last = err.Error()
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			last = resp.Status
			continue
		}
		// The management API can answer before the AMQP listener does.
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err != nil {
			last = "AMQP: " + err.Error()
			continue
		}
		c.Close()
		return b, nil
	}
	b.stop()
	out, _ := os.ReadFile(b.log)
	return nil, fmt.Errorf("the broker did not answer within 120 s (%s); rabbitmq-server:\n%s", last, out)
}

// envOf returns the value of key in env.
func envOf(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return ""
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
	// A broker whose management API answers may still close an AMQP
	// connection at its start (Exception 501, EOF) on a busy machine.
	var conn *amqp.Connection
	eventually(t, 30*time.Second, "an AMQP connection", func() (bool, string) {
		var err error
		if conn, err = amqp.Dial(b.amqpURL); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	t.Cleanup(func() { conn.Close() })
	return conn, b.mgmt
}

// putvals are the time stamps and values written for an identifier.
func putvals(out, ident string) (at, v []float64) { return testhub.Putvals(out, ident) }

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
