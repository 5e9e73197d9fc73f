package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// collectdEnv is a private collectd in the foreground, running the plugin
// as its Exec program as an unprivileged user.
type collectdEnv struct {
	dir, rrd, sock string
	stdout, log    string
}

// buildPlugin builds the binary into a directory every user can enter:
// collectd refuses to exec as root, and t.TempDir() is mode 0700.
func buildPlugin(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "fedmsg-collectd-e2e-")
		if err != nil {
			built.err = err
			return
		}
		built.dir = dir
		if err := os.Chmod(dir, 0o755); err != nil {
			built.err = err
			return
		}
		// Built as the README's install section builds it: static.
		build := exec.Command("go", "build", "-o", filepath.Join(dir, "fedmsg-collectd"), ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	// A directory of the test's own (it holds the test's files too), that
	// collectd's unprivileged Exec user may enter, with a link to the
	// binary.
	dir, err := os.MkdirTemp("", "fedmsg-collectd-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(built.dir, "fedmsg-collectd"), filepath.Join(dir, "fedmsg-collectd")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// built is the binary the package's tests share: one build, linked into
// each test's directory, removed by TestMain.
var built struct {
	once sync.Once
	dir  string
	err  error
}

// TestMain runs the tests, then removes the shared binary.
func TestMain(m *testing.M) {
	code := m.Run()
	stopShared()
	stopSharedZabbix()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// startCollectd writes a configuration that includes the drop-in, running
// the plugin built into dir with args, and starts collectd; it is stopped
// with SIGTERM when the test ends.
func startCollectd(t *testing.T, dir string, args ...string) *collectdEnv {
	t.Helper()
	inc := filepath.Join(dir, "fedmsg.conf")
	if err := os.WriteFile(inc, []byte(dropInFor(t, filepath.Join(dir, "fedmsg-collectd"), args...)), 0o644); err != nil {
		t.Fatal(err)
	}
	return startCollectdWith(t, dir, "myhost", fmt.Sprintf("Include %q\n", inc))
}

// startCollectdWith starts collectd in dir as host, with the logfile,
// rrdtool and unixsock plugins and extra configuration.
func startCollectdWith(t *testing.T, dir, host, extra string) *collectdEnv {
	t.Helper()
	collectd, err := exec.LookPath("collectd")
	if err != nil {
		// Debian puts it in /usr/sbin, which a user's PATH may lack.
		collectd = "/usr/sbin/collectd"
		if _, err := os.Stat(collectd); err != nil {
			t.Fatal("collectd not installed (apt-get install collectd-core collectd-utils rrdtool)")
		}
	}
	e := &collectdEnv{dir: dir, rrd: filepath.Join(dir, "rrd"), sock: filepath.Join(dir, "collectd.sock"),
		stdout: filepath.Join(dir, "collectd.stdout"), log: filepath.Join(dir, "collectd.log")}
	conf := fmt.Sprintf(`Hostname %[6]q
FQDNLookup false
BaseDir %[1]q
PIDFile "%[1]s/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
Interval 1
LoadPlugin logfile
<Plugin logfile>
  LogLevel "info"
  File %[2]q
</Plugin>
%[3]s
LoadPlugin rrdtool
<Plugin rrdtool>
  DataDir %[4]q
</Plugin>
LoadPlugin unixsock
<Plugin unixsock>
  SocketFile %[5]q
  SocketGroup "root"
</Plugin>
`, dir, e.log, extra, e.rrd, e.sock, host)
	confPath := filepath.Join(dir, "collectd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, err := os.Create(e.stdout)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(collectd, "-f", "-C", confPath)
	cmd.Stdout, cmd.Stderr = stdout, stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Error("collectd did not stop within 5s of SIGTERM")
		}
		stdout.Close()
		if t.Failed() {
			for _, f := range []string{e.stdout, e.log} {
				b, _ := os.ReadFile(f)
				t.Logf("%s:\n%s", f, b)
			}
		}
	})
	return e
}

// waitFile waits for a file below the RRD directory.
func (e *collectdEnv) waitFile(t *testing.T, rel string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if _, err := os.Stat(filepath.Join(e.rrd, rel)); err == nil {
			return
		}
		if time.Now().After(deadline) {
			entries, _ := filepath.Glob(filepath.Join(e.rrd, "*", "*", "*"))
			t.Fatalf("%s not written within %v; have:\n%s", rel, within, strings.Join(entries, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitUpdates waits until the RRD file has been updated in n distinct
// seconds since the call began watching it.
func (e *collectdEnv) waitUpdates(t *testing.T, rel string, n int, within time.Duration) {
	t.Helper()
	seen := map[string]bool{}
	deadline := time.Now().Add(within)
	for len(seen) < n {
		out, err := exec.Command("rrdtool", "lastupdate", filepath.Join(e.rrd, rel)).Output()
		if err == nil {
			// "value\n\n1795516100: 4\n": the time of the last update.
			fields := strings.Fields(string(out))
			if len(fields) >= 2 {
				seen[fields[len(fields)-2]] = true
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: updated in %d seconds within %v, want %d", rel, len(seen), within, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// getval asks collectd's unixsock for the current value of an identifier.
func (e *collectdEnv) getval(t *testing.T, ident string) string {
	t.Helper()
	out, err := exec.Command("collectdctl", "-s", e.sock, "getval", ident).CombinedOutput()
	if err != nil {
		t.Fatalf("collectdctl getval %s: %v\n%s", ident, err, out)
	}
	return strings.TrimSpace(string(out))
}

// rejections returns collectd's complaints about lines the plugin printed:
// "-1 ..." answers on its stdout, and stderr lines of the plugin in its log.
func (e *collectdEnv) rejections(t *testing.T) []string {
	t.Helper()
	var bad []string
	for _, f := range []string{e.stdout, e.log} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "-1 ") || strings.Contains(l, "exec_read_one: error") ||
				strings.Contains(l, "Unable to parse command") {
				bad = append(bad, l)
			}
		}
	}
	return bad
}

// TestCollectdIntegration runs the built plugin under a real collectd, as an
// unprivileged user, against two libzmq hubs found by discovery: one
// replaying a real capture, one with hostile names (spaces, quotes,
// slashes, tabs, duplicates, a name over the field limit).
func TestCollectdIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	dir := buildPlugin(t)
	run := socketDir(t, dir)
	testhub.Run(t, testhub.Config{Endpoint: "ipc://" + filepath.Join(run, "monitoring-fedmsg-hub.socket"),
		Period: time.Second, Mode: 0o777, Files: []string{fixtures + "ipc-01.json"}})
	odd := "ipc://" + filepath.Join(run, "monitoring-fedmsg-odd.socket")
	oddHub := testhub.Run(t, testhub.Config{Endpoint: odd, Period: 300 * time.Millisecond, Mode: 0o777, Files: []string{fixtures + "ipc-12.json"}})
	// A hub whose FMNConsumer backlog goes 0, 49, 188 and again: it grows.
	testhub.Run(t, testhub.Config{Endpoint: "ipc://" + filepath.Join(run, "monitoring-fedmsg-trend.socket"),
		Period: time.Second, Mode: 0o777, Files: []string{fixtures + "ipc-12.json", fixtures + "ipc-01.json", fixtures + "ipc-06.json"}})
	e := startCollectd(t, dir, "--socket-dir", run)

	e.waitFile(t, "myhost/fedmsg-hub/queue_length-FedoraBadgesConsumer_backlog.rrd", 20*time.Second)
	// The second hub publishes faster than collectd's rrdtool plugin can
	// store (a step under 1 s). Once the plugin has measured that period,
	// the hub restarts with new consumers, whose files must be created
	// all the same.
	e.waitFile(t, "myhost/fedmsg-odd/count-consumers.rrd", 10*time.Second)
	// A few more messages, at least two more writes: the period is known.
	e.waitUpdates(t, "myhost/fedmsg-odd/count-consumers.rrd", 3, 10*time.Second)
	oddHub.Kill()
	testhub.Run(t, testhub.Config{Endpoint: odd, Period: 300 * time.Millisecond, Mode: 0o777,
		Files: []string{"../../internal/derive/testdata/odd-names.json"}})
	for _, f := range []string{
		"myhost/fedmsg-hub/response_time-FMNConsumer_avg.rrd",
		"myhost/fedmsg-hub/gauge-FlakyProducer_exceptions.rrd",
		"myhost/fedmsg-hub/duration-HeartbeatProducer_last_ran_age.rrd",
		"myhost/fedmsg-hub/count-consumers.rrd",
		"myhost/fedmsg-hub/operations_per_second-FMNConsumer_arrival_rate.rrd",
		"myhost/fedmsg-hub/duration-FMNConsumer_wait.rrd",
		"myhost/fedmsg-hub/response_time-FMNConsumer_p99.rrd",
		"myhost/fedmsg-hub/gauge-FMNConsumer_utilization.rrd",
		"myhost/fedmsg-hub/duration-FMNConsumer_expected_wait.rrd",
		"myhost/fedmsg-trend/operations_per_second-FMNConsumer_growth_rate.rrd",
		"myhost/fedmsg-hub/operations_per_second-SummerShumConsumer_service_rate.rrd",
		`myhost/fedmsg-odd/queue_length-Spaced "Quoted" Consumer_backlog.rrd`,
		`myhost/fedmsg-odd/gauge-path_like\name_tab_exceptions.rrd`,
		"myhost/fedmsg-odd/queue_length-FedoraBadgesConsumer_2_backlog.rrd",
		"myhost/fedmsg-odd/queue_length-VeryLongConsumerName_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa~06d8cc6d_backlog.rrd",
		"myhost/fedmsg-odd/count-uninitialized.rrd",
	} {
		e.waitFile(t, f, 10*time.Second)
	}
	if got := e.getval(t, "myhost/fedmsg-hub/queue_length-FMNConsumer_backlog"); got != "value=4.900000e+01" {
		t.Errorf("FMNConsumer backlog: %q, want value=4.900000e+01 (published 49)", got)
	}
	if got := e.getval(t, "myhost/fedmsg-hub/gauge-FlakyConsumer_exceptions"); got != "value=2.500000e+01" {
		t.Errorf("FlakyConsumer exceptions: %q, want value=2.500000e+01", got)
	}
	// Alerting through collectd alone gives the same states as check.
	for _, th := range [][2]string{{"100", "200"}, {"10", "200"}, {"10", "40"}} {
		nagios := exec.Command("collectd-nagios", "-s", e.sock, "-H", "myhost", "-n", "fedmsg-hub/queue_length-FMNConsumer_backlog", "-w", th[0], "-c", th[1])
		out, _ := nagios.CombinedOutput()
		code, checked, _ := runCmd(t, context.Background(), "check", "--endpoint", "ipc://"+filepath.Join(run, "monitoring-fedmsg-hub.socket"),
			"--consumer", "FMNConsumer", "--backlog-warning", th[0], "--backlog-critical", th[1])
		t.Logf("-w %s -c %s: collectd-nagios exit %d %q; check exit %d %q", th[0], th[1], nagios.ProcessState.ExitCode(), strings.TrimSpace(string(out)), code, strings.SplitN(checked, "\n", 2)[0])
		if nagios.ProcessState.ExitCode() != code {
			t.Errorf("-w %s -c %s: collectd-nagios exits %d, check %d", th[0], th[1], nagios.ProcessState.ExitCode(), code)
		}
	}
	// The odd names must not have been written under altered names either.
	var all bytes.Buffer
	ls, _ := exec.Command("collectdctl", "-s", e.sock, "listval").Output()
	all.Write(ls)
	if strings.Contains(all.String(), "path/like") || !strings.Contains(all.String(), `Spaced "Quoted" Consumer_backlog`) {
		t.Errorf("listval:\n%s", all.String())
	}
	if bad := e.rejections(t); len(bad) > 0 {
		t.Errorf("collectd rejected lines of the plugin:\n%s", strings.Join(bad, "\n"))
	}
}

// waitValue polls collectdctl getval until it prints want.
func (e *collectdEnv) waitValue(t *testing.T, ident, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var got string
	for time.Now().Before(deadline) {
		out, _ := exec.Command("collectdctl", "-s", e.sock, "getval", ident).CombinedOutput()
		if got = strings.TrimSpace(string(out)); got == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %q after %v, want %q", ident, got, within, want)
}

// waitLog waits for a line of collectd's log containing all of parts.
func (e *collectdEnv) waitLog(t *testing.T, within time.Duration, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(e.log)
		for _, l := range strings.Split(string(b), "\n") {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(l, p)
			}
			if all {
				return l
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no log line with %q within %v", parts, within)
	return ""
}

// TestCollectdHubRestartIntegration: under a real collectd, a hub that is
// killed and restarted turns hub_up to 0 and back to 1, and the failure and
// okay notifications reach collectd; nothing the plugin writes is rejected.
func TestCollectdHubRestartIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	dir := buildPlugin(t)
	run := socketDir(t, dir)
	ep := "ipc://" + filepath.Join(run, "monitoring-fedmsg-hub.socket")
	hubCfg := testhub.Config{Endpoint: ep, Period: 500 * time.Millisecond, Mode: 0o777, Files: []string{fixtures + "ipc-01.json"}}
	hub := testhub.Run(t, hubCfg)
	e := startCollectd(t, dir, "--endpoint", "fedmsg-hub="+ep)

	up := "myhost/fedmsg-hub/bool-hub_up"
	e.waitValue(t, up, "value=1.000000e+00", 20*time.Second)
	hub.Kill()
	e.waitValue(t, up, "value=0.000000e+00", 10*time.Second)
	fail := e.waitLog(t, 5*time.Second, "Notification: severity = FAILURE", "fedmsg hub fedmsg-hub: no snapshot on "+ep)
	testhub.Run(t, hubCfg)
	e.waitValue(t, up, "value=1.000000e+00", 10*time.Second)
	okay := e.waitLog(t, 5*time.Second, "Notification: severity = OKAY", "fedmsg hub fedmsg-hub is heard again")
	t.Logf("collectd logged:\n%s\n%s", fail, okay)
	for _, ident := range []string{"myhost/fedmsg-hub/duration-last_snapshot_age", "myhost/fedmsg-collectd/derive-fedmsg-hub_reconnects", "myhost/fedmsg-collectd/gauge-goroutines"} {
		e.getval(t, ident)
	}
	if bad := e.rejections(t); len(bad) > 0 {
		t.Errorf("collectd rejected lines of the plugin:\n%s", strings.Join(bad, "\n"))
	}
}

// TestFleetIntegration: the many-hosts setup. The collectd of a hub host
// runs the plugin and forwards every value with the network plugin; a
// central collectd receives them and keeps the RRD files, under the
// sender's host name.
func TestFleetIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(pc.LocalAddr().String())
	pc.Close()

	centralDir, err := os.MkdirTemp("", "fedmsg-collectd-central-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(centralDir) })
	central := startCollectdWith(t, centralDir, "central01", fmt.Sprintf(`LoadPlugin network
<Plugin network>
  Listen "127.0.0.1" %q
</Plugin>
`, port))

	dir := buildPlugin(t)
	run := socketDir(t, dir)
	testhub.Run(t, testhub.Config{Endpoint: "ipc://" + filepath.Join(run, "monitoring-fedmsg-hub.socket"),
		Period: time.Second, Mode: 0o777, Files: []string{fixtures + "ipc-01.json"}})
	inc := filepath.Join(dir, "fedmsg.conf")
	if err := os.WriteFile(inc, []byte(dropInFor(t, filepath.Join(dir, "fedmsg-collectd"), "--socket-dir", run)), 0o644); err != nil {
		t.Fatal(err)
	}
	sender := startCollectdWith(t, dir, "busgateway01", fmt.Sprintf(`Include %q
<LoadPlugin network>
  FlushInterval 1
</LoadPlugin>
<Plugin network>
  Server "127.0.0.1" %q
</Plugin>
`, inc, port))

	central.waitFile(t, "busgateway01/fedmsg-hub/queue_length-FMNConsumer_backlog.rrd", 20*time.Second)
	central.waitValue(t, "busgateway01/fedmsg-hub/queue_length-FMNConsumer_backlog", "value=4.900000e+01", 10*time.Second)
	central.waitFile(t, "busgateway01/fedmsg-hub/duration-FMNConsumer_wait.rrd", 10*time.Second)
	if entries, _ := os.ReadDir(central.rrd); len(entries) != 1 || entries[0].Name() != "busgateway01" {
		t.Errorf("central RRD hosts: %v, want only busgateway01", entries)
	}
	for _, e := range []*collectdEnv{central, sender} {
		if bad := e.rejections(t); len(bad) > 0 {
			t.Errorf("collectd rejected lines:\n%s", strings.Join(bad, "\n"))
		}
	}
}

// TestThresholdExampleIntegration enables the drop-in's threshold example
// (with limits that the capture crosses: FMN backlog 49, FlakyConsumer
// 25 exceptions) under a real collectd:
// collectd raises the notifications from the plugin's values.
func TestThresholdExampleIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	dir := buildPlugin(t)
	run := socketDir(t, dir)
	testhub.Run(t, testhub.Config{Endpoint: "ipc://" + filepath.Join(run, "monitoring-fedmsg-hub.socket"),
		Period: time.Second, Mode: 0o777, Files: []string{fixtures + "ipc-01.json"}})
	block := strings.NewReplacer("WarningMax 15000", "WarningMax 10", "FailureMax 20000", "FailureMax 40",
		"FMNConsumer_exceptions", "FlakyConsumer_exceptions").Replace(thresholdBlock(t))
	inc := filepath.Join(dir, "fedmsg.conf")
	if err := os.WriteFile(inc, []byte(dropInFor(t, filepath.Join(dir, "fedmsg-collectd"), "--socket-dir", run)), 0o644); err != nil {
		t.Fatal(err)
	}
	e := startCollectdWith(t, dir, "myhost", fmt.Sprintf("Include %q\n%s", inc, block))
	l := e.waitLog(t, 20*time.Second, "Notification: severity = FAILURE", "type_instance = FMNConsumer_backlog")
	t.Logf("collectd logged: %s", l)
	e.waitLog(t, 5*time.Second, "Notification: severity = FAILURE", "type_instance = FlakyConsumer_exceptions")
}

// socketDir makes the directory, below dir, where the tests' hubs bind
// their sockets: one the unprivileged plugin can enter.
func socketDir(t *testing.T, dir string) string {
	t.Helper()
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o755); err != nil {
		t.Fatal(err)
	}
	return run
}
