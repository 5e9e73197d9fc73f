package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// TestSystemdUnitsIntegration: systemd-analyze verify finds nothing to say
// of the units shipped in docs/systemd, alone and with the hubs' drop-in,
// with the binary where ExecStart names it, and fails one whose binary is
// not there; systemd-analyze security rates each 3.0 or below.
func TestSystemdUnitsIntegration(t *testing.T) {
	parallel(t)
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
	dropIn, err := os.ReadFile("../../docs/systemd/hubs.conf")
	if err != nil {
		t.Fatal(err)
	}
	_, hubs, _ := strings.Cut(string(dropIn), "[Service]\n")
	exposure := regexp.MustCompile(`Overall exposure level for \S+: (\d+\.\d+)`)
	for _, u := range units {
		b, _ := os.ReadFile(u)
		text := string(b)
		if !strings.Contains(text, "ExecStart=/usr/local/bin/fedmsg-collectd ") || strings.Contains(text, "SupplementaryGroups") {
			t.Errorf("%s: no ExecStart of /usr/local/bin/fedmsg-collectd, or a group that a broker's host may not have", u)
		}
		// As the unit stands, and with the hubs' drop-in (its lines
		// where systemd would read them: in [Service]).
		withHubs := strings.Replace(text, "\n[Install]", hubs+"\n[Install]", 1)
		for _, v := range []struct{ name, text string }{{filepath.Base(u), text}, {"hubs-" + filepath.Base(u), withHubs}} {
			if out, err := verify(v.name, strings.ReplaceAll(v.text, "/usr/local/bin/fedmsg-collectd", bin)); err != nil || out != "" {
				t.Errorf("%s: systemd-analyze verify: %v\n%s", v.name, err, out)
			}
			out, _ := exec.Command("systemd-analyze", "security", "--offline=yes", filepath.Join(dir, v.name)).CombinedOutput()
			m := exposure.FindStringSubmatch(string(out))
			if m == nil {
				t.Fatalf("%s: systemd-analyze security said:\n%s", v.name, out)
			}
			if score, _ := strconv.ParseFloat(m[1], 64); score > 3.0 {
				t.Errorf("%s: systemd-analyze security rates it %v, over 3.0:\n%s", v.name, score, out)
			}
			t.Logf("%s: systemd-analyze security %s", v.name, m[1])
		}
		if out, err := verify("broken-"+filepath.Base(u), strings.ReplaceAll(text, "/usr/local/bin/fedmsg-collectd", filepath.Join(dir, "none"))); err == nil {
			t.Errorf("%s with no binary: verify passed: %s", u, out)
		}
	}
}
