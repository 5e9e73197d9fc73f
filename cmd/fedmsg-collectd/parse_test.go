package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/source"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/counters"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/hubmon"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/rabbitmq"
)

// parse reads the command line of the run command as the plugin would,
// without building anything: getenv supplies COLLECTD_HOSTNAME and
// COLLECTD_INTERVAL; hostname is the fallback for the host field.
func parse(args []string, out io.Writer, getenv func(string) string, hostname func() (string, error)) (config, error) {
	cmd, rest := lookup(args)
	if cmd == nil {
		return config{}, fmt.Errorf("unknown command %q (\"fedmsg-collectd help\" lists them)", args[0])
	}
	c, finish, err := parseWatch(cmd, rest, ios{stdout: out, getenv: getenv, hostname: hostname})
	if err == nil {
		_, err = finish(nil)
	}
	if c == nil {
		return config{}, err
	}
	return *c, err
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func host(name string, err error) func() (string, error) {
	return func() (string, error) { return name, err }
}

func TestParse(t *testing.T) {
	base := config{sources: source.Flags{Hubs: hubmon.Flags{SocketDir: "/var/run/fedmsg", Rescan: 10e9, Forget: 24 * time.Hour, IdlePeriods: 3, MaxMessage: 4 << 20},
		Brokers: rabbitmq.Config{Interval: 10 * time.Second, MaxQueues: rabbitmq.DefaultMaxQueues}, Stages: counters.Config{Interval: 10 * time.Second}},
		host: "envhost", logLevel: 4, interval: 2500 * time.Millisecond, smoothing: time.Minute}
	tests := []struct {
		name   string
		args   []string
		modify func(*config)
	}{
		{name: "defaults", args: nil},
		{name: "run subcommand", args: []string{"run"}},
		{
			name: "endpoints",
			args: []string{"run", "--endpoint", "ipc:////var/run/fedmsg/monitoring-fedmsg-hub.socket", "--endpoint=moksha-hub=tcp://127.0.0.1:3000"},
			modify: func(c *config) {
				c.sources.Hubs.Endpoints = []model.Endpoint{
					{Service: "fedmsg-hub", Addr: "ipc:////var/run/fedmsg/monitoring-fedmsg-hub.socket"},
					{Service: "moksha-hub", Addr: "tcp://127.0.0.1:3000"},
				}
			},
		},
		{name: "interval flag wins", args: []string{"--interval", "30s"}, modify: func(c *config) { c.interval = 30 * time.Second }},
		{name: "smoothing", args: []string{"--smoothing", "5m"}, modify: func(c *config) { c.smoothing = 5 * time.Minute }},
		{name: "max message", args: []string{"--max-message", "64KiB"}, modify: func(c *config) { c.sources.Hubs.MaxMessage = 64 << 10 }},
		{name: "max message in bytes", args: []string{"--max-message", "100000"}, modify: func(c *config) { c.sources.Hubs.MaxMessage = 100000 }},
		{name: "hostname flag wins", args: []string{"--hostname", "flaghost"}, modify: func(c *config) { c.host = "flaghost" }},
		{name: "hostname sanitized", args: []string{"--hostname", "a/b"}, modify: func(c *config) { c.host = "a_b" }},
		{
			name: "other flags",
			args: []string{"--socket-dir", "/tmp/s", "--rescan", "1s", "--idle-periods", "5", "--log-level", "debug"},
			modify: func(c *config) {
				c.sources.Hubs.SocketDir, c.sources.Hubs.Rescan, c.sources.Hubs.IdlePeriods, c.logLevel = "/tmp/s", 1e9, 5, -4
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := base
			if tt.modify != nil {
				tt.modify(&want)
			}
			got, err := parse(tt.args, io.Discard, env(map[string]string{"COLLECTD_HOSTNAME": "envhost", "COLLECTD_INTERVAL": "2.500"}), host("", errors.New("unused")))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got, cmp.AllowUnexported(config{}), cmpopts.IgnoreUnexported(hubmon.Flags{}, source.Flags{})); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	// Without COLLECTD_HOSTNAME the machine's name is used, and without a
	// usable COLLECTD_INTERVAL collectd's default of 10 s.
	for _, iv := range []string{"", "abc", "0", "-1"} {
		c, err := parse(nil, io.Discard, env(map[string]string{"COLLECTD_INTERVAL": iv}), host("machine", nil))
		if err != nil || c.host != "machine" || c.interval != 10*time.Second {
			t.Errorf("COLLECTD_INTERVAL=%q: host %q, interval %v, err %v", iv, c.host, c.interval, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for args, want := range map[string]string{
		"--endpoint /var/run/x":                                     "want ipc://PATH or tcp://HOST:PORT",
		"--endpoint udp://h:1":                                      `scheme "udp" not supported`,
		"--endpoint bad/name=ipc:///x":                              `service name "bad/name": character '/' not allowed`,
		"--endpoint fedmsg-collectd=ipc:///x":                       "is the plugin's own",
		"--forget-after 0s":                                         "--forget-after must be positive",
		"--endpoint a=tcp://h:1 --endpoint a=tcp://h:2":             "service a is given to both",
		"--endpoint tcp://h:1 --endpoint ipc:///x/hub.sock":         "",
		"--endpoint ipc:///x/hub.sock --endpoint ipc:///y/hub.sock": "service fedmsg-hub is given to both",
		"--rescan 0s":        "--rescan must be positive",
		"--idle-periods 0":   "--idle-periods must be at least 1",
		"--log-level loud":   "--log-level",
		"--nope":             "flag provided but not defined",
		"--max-message 10":   "want a size of at least 1KiB",
		"--max-message 4GB":  "want a size of at least 1KiB",
		"--interval 1ms":     "--interval must be at least 100ms",
		"--smoothing 10ms":   "--smoothing must be at least 1s",
		"extra":              `unknown command "extra"`,
		"-interval 1s extra": `unexpected argument "extra"`,
		"--rabbitmq ftp://h": "want [NAME=]http(s)://HOST:PORT",
		"--rabbitmq http://a --rabbitmq http://b":            "two brokers named fedmsg_rabbitmq",
		"--rabbitmq x=http://a --rabbitmq y=http://b":        "",
		`--rabbitmq my"broker=http://a`:                      `service name "my\"broker": character '"' not allowed`,
		"--rabbitmq http://a --rabbitmq-queues (":            "--rabbitmq-queues",
		"--rabbitmq http://a --rabbitmq-auth-file /nonexist": "--rabbitmq-auth-file",
		"--rabbitmq http://a --rabbitmq-interval 10ms":       "--rabbitmq-interval must be at least 1s",
		"--counters localhost:80":                            "want [SERVICE=]http(s)://HOST:PORT/PATH",
		"--counters http://h:99999/c":                        "want [SERVICE=]http(s)://HOST:PORT/PATH",
		"--rabbitmq http://h:0":                              "want [NAME=]http(s)://HOST:PORT",
		"--counters fedmsg-collectd=http://h/c":              "is the plugin's own",
		"--counters http://h/c --counters http://h/d":        "two services named counters-h",
		"--counters a=http://h/c --counters-interval 1ms":    "--counters-interval must be at least 100ms",
	} {
		c, err := parse(strings.Fields(args), io.Discard, env(nil), host("h", nil))
		if err == nil {
			// Errors of the sources' own are found building them, once.
			_, err = c.sources.Build(nil)
		}
		if want == "" {
			if err != nil {
				t.Errorf("parse(%s): %v", args, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parse(%s) = %v, want an error with %q", args, err, want)
		}
	}
	if _, err := parse(nil, io.Discard, env(nil), host("", errors.New("no name"))); err == nil {
		t.Error("no host name at all was accepted")
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"run", "-h"}, {"run", "--help"}} {
		var out, errs bytes.Buffer
		if code := run(context.Background(), args, &out, &errs); code != cli.ExitOK || errs.Len() > 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs.String())
		}
		for _, want := range []string{"-endpoint", "-socket-dir", "-rescan", "-hostname", "-idle-periods", "-log-level", "-interval", "-max-message", "-smoothing", "-forget-after", "-version", "run", "help"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%v: help on stdout does not mention %s", args, want)
			}
		}
	}
	// Every command's help goes to stdout, exit 0.
	for _, cmd := range []string{"demo", "simulate", "capture", "replay", "check", "exporter", "netdata"} {
		var out, errs bytes.Buffer
		if code := run(context.Background(), []string{cmd, "--help"}, &out, &errs); code != cli.ExitOK || errs.Len() > 0 || !strings.Contains(out.String(), "Usage: fedmsg-collectd "+cmd) {
			t.Errorf("%s --help: exit %d, stdout %d bytes, stderr %q", cmd, code, out.Len(), errs.String())
		}
	}
}

// TestUsageErrors: a mistyped command line is one line on stderr (collectd
// logs each line, every time it restarts the plugin) and exit 2.
func TestUsageErrors(t *testing.T) {
	for args, want := range map[string]string{
		"--bogus":             `fedmsg-collectd: flag provided but not defined: -bogus (run "fedmsg-collectd -h")`,
		"--interval x":        `fedmsg-collectd: invalid value "x" for flag -interval: parse error (run "fedmsg-collectd -h")`,
		"bogus":               `fedmsg-collectd: unknown command "bogus" ("fedmsg-collectd help" lists them) (run "fedmsg-collectd -h")`,
		"demo --bogus":        `fedmsg-collectd: flag provided but not defined: -bogus (run "fedmsg-collectd demo -h")`,
		"replay":              `fedmsg-collectd: want one FILE, or - for stdin (run "fedmsg-collectd replay -h")`,
		"simulate --period x": `fedmsg-collectd: invalid value "x" for flag -period: parse error (run "fedmsg-collectd simulate -h")`,
		// No password in a usage error, which collectd logs.
		"--endpoint tcp://user:pass@h:99999": `fedmsg-collectd: invalid value "tcp://user:xxxxx@h:99999" for flag -endpoint: endpoint "tcp://user:xxxxx@h:99999": want tcp://HOST:PORT (run "fedmsg-collectd -h")`,
	} {
		var out, errs bytes.Buffer
		code := run(context.Background(), strings.Fields(args), &out, &errs)
		if code != cli.ExitUsage || errs.String() != want+"\n" || out.Len() > 0 {
			t.Errorf("%s: exit %d, stderr %q, stdout %d bytes; want 2 and %q", args, code, errs.String(), out.Len(), want)
		}
	}
}

// TestVersion: --version and version print one line on stdout.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}, {"run", "--version"}} {
		var out bytes.Buffer
		if code := run(context.Background(), args, &out, io.Discard); code != cli.ExitOK || !strings.HasPrefix(out.String(), "fedmsg-collectd ") || strings.Count(out.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, %q", args, code, out.String())
		}
	}
}
