package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// readmeBlock returns the fenced block that follows marker in the README.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)" + regexp.QuoteMeta(marker) + "[^\n]*\n```\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatalf("README has no block after %q", marker)
	}
	return string(m[1])
}

// TestDebianInstallIntegration runs the README's Debian install block
// verbatim, as root, on this Debian machine, and checks that collectd,
// started as the block's systemctl line would start it, writes the RRD
// files of every simulated consumer. It runs in a private mount
// namespace: the machine's /usr/local/bin, collectd drop-in directory,
// /run and /var/lib/collectd are not touched. Two cases, one after the
// other: on a host without the hub's group yet (the steps make it; the hub
// comes after, as its package would), then with the hub running. The
// group fedmsg is removed again if the test made it.
func TestDebianInstallIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	if os.Geteuid() != 0 {
		t.Skip("the install steps are run as root")
	}
	if _, err := os.Stat("/etc/collectd/collectd.conf"); err != nil {
		t.Fatalf("Debian's collectd package is not installed (scripts/test installs it): %v", err)
	}
	build := "CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\" -o fedmsg-collectd ./cmd/fedmsg-collectd\n"
	if !strings.Contains(readmeFile(t), "```\n"+build+"```") {
		t.Fatalf("the README's build line is not %q", build)
	}
	steps := readmeBlock(t, "<!-- TestDebianInstallIntegration")

	// The work directory holds the built binary and collectd.d/, as the
	// README's "in the directory holding the binary" says; every user may
	// enter it.
	work, err := os.MkdirTemp("", "fedmsg-install-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	os.Chmod(work, 0o755)
	cmd := exec.Command("bash", "-c", build)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	if err := os.Rename("../../fedmsg-collectd", filepath.Join(work, "fedmsg-collectd")); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(work, "collectd.d"), 0o755)
	dropIn, _ := os.ReadFile("../../collectd.d/fedmsg.conf")
	os.WriteFile(filepath.Join(work, "collectd.d", "fedmsg.conf"), dropIn, 0o644)
	os.WriteFile(filepath.Join(work, "steps.sh"), []byte(steps), 0o644)

	if exec.Command("getent", "group", "fedmsg").Run() != nil {
		t.Cleanup(func() { exec.Command("groupdel", "fedmsg").Run() })
		installCase(t, work, false)
		if exec.Command("getent", "group", "fedmsg").Run() != nil {
			t.Errorf("the steps did not make the group fedmsg")
		}
	} else {
		t.Log("this host has a group fedmsg: the case of a host without it is not run")
	}
	installCase(t, work, true)
}

// installCase runs the steps in work in a private mount namespace, the
// hub started before them (hubFirst) or after, and waits for collectd's
// RRD files of its consumers.
func installCase(t *testing.T, work string, hubFirst bool) {
	t.Helper()
	logFile := filepath.Join(work, fmt.Sprintf("collectd-%v.log", hubFirst))
	hub := "./fedmsg-collectd simulate --bind ipc:///var/run/fedmsg/monitoring-fedmsg-hub.socket --group fedmsg --mode 770 --speed 5 &\n" +
		"for i in $(seq 100); do [ -S /var/run/fedmsg/monitoring-fedmsg-hub.socket ] && break; sleep 0.1; done\n"
	before, after := hub, ""
	if !hubFirst {
		before, after = "", hub
	}
	script := fmt.Sprintf(`set -euxo pipefail
# Private copies of what the steps write to.
conf=$(mktemp -d)
cp -a /etc/collectd/collectd.conf.d/. "$conf"/
mount --bind "$conf" /etc/collectd/collectd.conf.d
mount -t tmpfs tmpfs /usr/local/bin
mount -t tmpfs tmpfs /run
mkdir -p /var/lib/collectd
mount -t tmpfs tmpfs /var/lib/collectd
# The hub, as its package would run it: group fedmsg, mode 770.
%s
# systemctl restart collectd: the stock configuration plus a log file.
systemctl() {
  printf 'LoadPlugin logfile\n<Plugin logfile>\n  File "%%s"\n</Plugin>\nInclude "/etc/collectd/collectd.conf"\n' %q > ./stock-plus-log.conf
  /usr/sbin/collectd -f -C ./stock-plus-log.conf &
}
export DEBIAN_FRONTEND=noninteractive
source ./steps.sh
%s
wait
`, before, logFile, after)
	run := exec.Command("unshare", "--mount", "--propagation", "private", "bash", "-c", script)
	run.Dir = work
	var out testhub.Buffer
	run.Stdout, run.Stderr = &out, &out
	run.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-run.Process.Pid, syscall.SIGTERM)
		run.Wait()
	}()

	// The namespace's files, seen through the shell's root.
	root := fmt.Sprintf("/proc/%d/root", run.Process.Pid)
	consumers := []string{"FedoraBadgesConsumer", "SourceTarballHashConsumer", "FMNConsumer"}
	var found []string
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		found = found[:0]
		for _, c := range consumers {
			m, _ := filepath.Glob(root + "/var/lib/collectd/rrd/*/fedmsg-hub/queue_length-" + c + "_backlog.rrd")
			found = append(found, m...)
		}
		if len(found) == len(consumers) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	log, _ := os.ReadFile(logFile)
	if len(found) != len(consumers) {
		t.Fatalf("hub first %v: RRD files of %v after 60 s: %v\nsteps:\n%s\ncollectd log:\n%s", hubFirst, consumers, found, out.String(), log)
	}
	// The steps' output comes through pipes: wait for its line, which a
	// loaded machine may deliver after collectd's files.
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), "hub group: fedmsg") && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "hub group: fedmsg") {
		t.Errorf("the steps did not take the hub's group:\n%s", out.String())
	}
	if strings.Contains(string(log), "[error]") || !strings.Contains(string(log), "Initialization complete") {
		t.Errorf("hub first %v: collectd's log has errors or no start:\n%s", hubFirst, log)
	}
}

func readmeFile(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
