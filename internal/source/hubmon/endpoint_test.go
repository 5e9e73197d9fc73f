package hubmon

import (
	"bytes"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		arg  string
		want model.Endpoint
	}{
		{"ipc:///var/run/fedmsg/monitoring-fedmsg-hub.socket", model.Endpoint{Service: "fedmsg-hub", Addr: "ipc:///var/run/fedmsg/monitoring-fedmsg-hub.socket"}},
		{"ipc:////var/run/fedmsg/monitoring-fedmsg-hub-3.socket", model.Endpoint{Service: "fedmsg-hub-3", Addr: "ipc:////var/run/fedmsg/monitoring-fedmsg-hub-3.socket"}},
		{"ipc:///tmp/hub.sock", model.Endpoint{Service: "fedmsg-hub", Addr: "ipc:///tmp/hub.sock"}},
		{"ipc://@abstract", model.Endpoint{Service: "fedmsg-abstract", Addr: "ipc://@abstract"}},
		{"tcp://127.0.0.1:3000", model.Endpoint{Service: "fedmsg-127_0_0_1_3000", Addr: "tcp://127.0.0.1:3000"}},
		{"tcp://hub.example.org:3000", model.Endpoint{Service: "fedmsg-hub_example_org_3000", Addr: "tcp://hub.example.org:3000"}},
		{"moksha-hub=tcp://localhost:3000", model.Endpoint{Service: "moksha-hub", Addr: "tcp://localhost:3000"}},
		{"fedmsg-relay=ipc:///x/y=z.socket", model.Endpoint{Service: "fedmsg-relay", Addr: "ipc:///x/y=z.socket"}},
		{"ipc:///x/monitoring-we!rd.socket", model.Endpoint{Service: "we_rd", Addr: "ipc:///x/monitoring-we!rd.socket"}},
	}
	for _, tt := range tests {
		got, err := ParseEndpoint(tt.arg)
		if err != nil {
			t.Errorf("ParseEndpoint(%q): %v", tt.arg, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseEndpoint(%q) = %+v, want %+v", tt.arg, got, tt.want)
		}
		if err := model.CheckService(got.Service); err != nil {
			t.Errorf("ParseEndpoint(%q): derived service: %v", tt.arg, err)
		}
	}
	for _, bad := range []string{"", "/var/run/x.socket", "udp://h:1", "tcp://host", "tcp://:5", "ipc://", "ipc://@", "tcp://h:0", "tcp://h:99999", "tcp://h:http", "tcp://h:-1", "tcp://h:+80", "tcp://h:080"} {
		if ep, err := ParseEndpoint(bad); err == nil {
			t.Errorf("ParseEndpoint(%q) = %+v, want an error", bad, ep)
		}
	}
}

func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"monitoring-fedmsg-hub.socket", "monitoring-fedmsg-relay.socket", "other.socket",
		"monitoring-a.b.socket", "monitoring-a_b.socket", "monitoring-fedmsg-collectd.socket"} {
		ln, err := net.Listen("unix", filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
	}
	if err := os.WriteFile(filepath.Join(dir, "monitoring-file.socket"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "monitoring-dir.socket"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "monitoring-fifo.socket"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "monitoring-dangling.socket")); err != nil {
		t.Fatal(err)
	}
	got, skips, err := Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []model.Endpoint{
		{Service: "a_b", Addr: "ipc://" + dir + "/monitoring-a.b.socket"},
		{Service: "fedmsg-hub", Addr: "ipc://" + dir + "/monitoring-fedmsg-hub.socket"},
		{Service: "fedmsg-relay", Addr: "ipc://" + dir + "/monitoring-fedmsg-relay.socket"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	reasons := map[string]string{}
	for _, s := range skips {
		reasons[filepath.Base(s.Path)] = s.Reason
	}
	for f, want := range map[string]string{
		"monitoring-a_b.socket":             "its service a_b is already " + dir + "/monitoring-a.b.socket's",
		"monitoring-fedmsg-collectd.socket": "its service fedmsg-collectd is the plugin's own",
		"monitoring-file.socket":            "not a socket but a regular file",
		"monitoring-dir.socket":             "not a socket but a directory",
		"monitoring-fifo.socket":            "not a socket but a FIFO",
		"monitoring-dangling.socket":        "cannot stat it (a dangling symlink?)",
	} {
		if !strings.HasPrefix(reasons[f], want) {
			t.Errorf("%s: skipped as %q, want %q", f, reasons[f], want)
		}
	}
	if len(skips) != 6 {
		t.Errorf("%d skipped: %+v", len(skips), skips)
	}
	if got, _, err := Discover(filepath.Join(dir, "missing")); err != nil || len(got) != 0 {
		t.Errorf("missing dir: %v, %v", got, err)
	}
	// Discovery logs each skipped file once, and counts them.
	var logs bytes.Buffer
	d := &Discovery{Dir: dir, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	for range 3 {
		if eps, err := d.List(); err != nil || len(eps) != 3 {
			t.Fatalf("List: %v, %v", eps, err)
		}
	}
	if n := strings.Count(logs.String(), "\n"); n != 6 || d.Skipped() != 6 {
		t.Errorf("%d log lines, %d skipped; want 6 and 6:\n%s", n, d.Skipped(), logs.String())
	}
}

func TestPeriod(t *testing.T) {
	var p Period
	if p.Estimate() != DefaultPeriod {
		t.Fatalf("empty estimate %v", p.Estimate())
	}
	// Jittered 1 s gaps with one lost message (2 s) and a bogus gap.
	for _, g := range []time.Duration{1010, 990, 2000, 1003, 997, 0, 1001} {
		p.Observe(g * time.Millisecond)
	}
	if got := p.Estimate(); got != time.Second {
		t.Errorf("estimate %v, want 1s", got)
	}
	// The window follows a hub whose period changed.
	for range periodWindow {
		p.Observe(250 * time.Millisecond)
	}
	if got := p.Estimate(); got != 250*time.Millisecond {
		t.Errorf("estimate %v after the change, want 250ms", got)
	}
}
