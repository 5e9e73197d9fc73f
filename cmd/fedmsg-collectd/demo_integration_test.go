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
	t.Parallel()
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
	row := regexp.MustCompile(`(?m)^(\S+)\s+(\d+) \S+\s+([\d.]+)\s+([\d.]+)\s.*\s([\d.]+)\s+\d+\s*$`)
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
		util, _ := strconv.ParseFloat(m[5], 64)
		switch m[1] {
		case "FedoraBadges": // FedoraBadgesConsumer: 20 msg/s of hub time, one worker
			if in < 10 || in > 30 || util > 1.2 {
				t.Errorf("badges in hub time: in %v/s, utilisation %v; want about 20 and under 1:\n%s", in, util, screen)
			}
		case "FMNConsumer":
			if util > 1.2 {
				t.Errorf("notifications: utilisation %v of one worker:\n%s", util, screen)
			}
		}
	}
}
