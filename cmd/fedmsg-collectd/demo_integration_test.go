package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// TestDemoTerminalIntegration runs demo in a real terminal (tmux) and
// reads the screen: a table per consumer, redrawn, in hub time, and no
// PUTVAL lines.
func TestDemoTerminalIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is not installed (scripts/test installs it)")
	}
	bin := filepath.Join(buildPlugin(t), "fedmsg-collectd")
	session := fmt.Sprintf("fedmsg-demo-%d", os.Getpid())
	sock := filepath.Join(t.TempDir(), "tmux.sock")
	tmux := func(args ...string) string {
		out, err := exec.Command("tmux", append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v %s", args, err, out)
		}
		return string(out)
	}
	// 80 columns: a row that did not fit would wrap, and not match.
	tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "20", bin+" demo --duration 60s; echo EXIT=$?; sleep 60")
	t.Cleanup(func() { exec.Command("tmux", "-S", sock, "kill-server").Run() })

	// A screen with every consumer's row and the hub up; then another one
	// drawn over it, at a later hub time.
	// CONSUMER BACKLOG TREND IN/s OUT/s WAIT OLDEST DRAIN P95 EXC
	row := regexp.MustCompile(`(?m)^(\S+)\s+(\d+) \S+\s+([\d.]+)\s+([\d.]+)\s+\S+\s+\S+\s+\S+\s+(\S+)\s+\d+\s*$`)
	at := regexp.MustCompile(`fedmsg-hub: up; snapshots every 5s, the latest (\S+) into the run`)
	var first, screen string
	deadline := time.Now().Add(40 * time.Second)
	for time.Now().Before(deadline) {
		screen = tmux("capture-pane", "-p", "-t", session)
		if len(row.FindAllString(screen, -1)) == 3 && at.MatchString(screen) {
			if first == "" {
				first = at.FindStringSubmatch(screen)[1]
			} else if at.FindStringSubmatch(screen)[1] != first {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if first == "" || at.FindStringSubmatch(screen) == nil || at.FindStringSubmatch(screen)[1] == first {
		t.Fatalf("no table redrawn within 40 s; screen:\n%s", screen)
	}
	if strings.Contains(screen, "PUTVAL") {
		t.Errorf("PUTVAL lines on a terminal:\n%s", screen)
	}
	defer func() {
		// Ctrl-C is a key the demo reads: it stops, with status 0.
		tmux("send-keys", "-t", session, "C-c")
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(screen, "EXIT=") && time.Now().Before(deadline) {
			screen = tmux("capture-pane", "-p", "-t", session)
			time.Sleep(50 * time.Millisecond)
		}
		if !strings.Contains(screen, "EXIT=0") {
			t.Errorf("after Ctrl-C:\n%s", screen)
		}
	}()
	for _, m := range row.FindAllStringSubmatch(screen, -1) {
		in, _ := strconv.ParseFloat(m[3], 64)
		out, _ := strconv.ParseFloat(m[4], 64)
		switch m[1] {
		case "FedoraBadges": // FedoraBadgesConsumer: 20 msg/s of hub time, about 10 ms each
			if in < 10 || in > 30 || out < 10 || out > 30 || m[5] != "0.01s" {
				t.Errorf("badges in hub time: in %v/s, out %v/s, p95 %s; want about 20, 20 and 0.01s:\n%s", in, out, m[5], screen)
			}
		case "FMNConsumer": // about 0.1 s a message of hub time
			if p95, _ := strconv.ParseFloat(strings.TrimSuffix(m[5], "s"), 64); p95 < 0.05 || p95 > 1 {
				t.Errorf("notifications: p95 %s, want about 0.1 to 0.2 s of hub time:\n%s", m[5], screen)
			}
		}
	}
}
