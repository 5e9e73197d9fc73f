package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// TestSystemdUnitsIntegration: systemd-analyze verify finds nothing to say
// of the units shipped in docs/systemd, with the binary where ExecStart
// names it, and fails one whose binary is not there.
func TestSystemdUnitsIntegration(t *testing.T) {
	t.Parallel()
	testhub.Integration(t)
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Fatal("systemd-analyze is not installed (Debian's systemd package has it)")
	}
	bin := filepath.Join(buildPlugin(t), "fedmsg-collectd")
	units, _ := filepath.Glob("../../docs/systemd/*.service")
	if len(units) != 2 {
		t.Fatalf("units: %v", units)
	}
	dir := t.TempDir()
	verify := func(name, text string) (string, error) {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o644)
		out, err := exec.Command("systemd-analyze", "verify", p).CombinedOutput()
		return string(out), err
	}
	for _, u := range units {
		b, _ := os.ReadFile(u)
		text := string(b)
		if !strings.Contains(text, "ExecStart=/usr/local/bin/fedmsg-collectd ") || !strings.Contains(text, "SupplementaryGroups=fedmsg") {
			t.Errorf("%s: no ExecStart of /usr/local/bin/fedmsg-collectd, or not in the hubs' group", u)
		}
		if out, err := verify(filepath.Base(u), strings.ReplaceAll(text, "/usr/local/bin/fedmsg-collectd", bin)); err != nil || out != "" {
			t.Errorf("%s: systemd-analyze verify: %v\n%s", u, err, out)
		}
		if out, err := verify("broken-"+filepath.Base(u), strings.ReplaceAll(text, "/usr/local/bin/fedmsg-collectd", filepath.Join(dir, "none"))); err == nil {
			t.Errorf("%s with no binary: verify passed: %s", u, out)
		}
	}
}
