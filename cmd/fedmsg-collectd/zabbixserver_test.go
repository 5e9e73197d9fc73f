package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// zabbixServer is Debian's Zabbix 6.0 on loopback: PostgreSQL with a data
// directory and port of its own, zabbix_server with its trapper on a port
// of its own, and a copy of the frontend served by PHP's built-in server
// for its API. All are stopped when the test ends.
type zabbixServer struct {
	trapper, web string // host:port
	dir          string
	auth         string
}

// zabbixTLS are the files of the server's TLS: the CA, its certificate
// and key.
type zabbixTLS struct{ ca, cert, key string }

const pgBin = "/usr/lib/postgresql/15/bin"

// startZabbix starts the three for the test alone, stopped when it
// ends (the benchmarks, which measure a server's cost); tls, when not
// nil, is the server's TLS. Tests share one: sharedZabbix.
func startZabbix(t testing.TB, tls *zabbixTLS) *zabbixServer {
	t.Helper()
	z := launchZabbix(t, tls, t.Cleanup)
	z.logOnFailure(t)
	return z
}

// launchZabbix starts the three; each is stopped, and its directory
// removed, by a function given to cleanup.
func launchZabbix(t testing.TB, tls *zabbixTLS, cleanup func(func())) *zabbixServer {
	t.Helper()
	for _, f := range []string{pgBin + "/postgres", "/usr/sbin/zabbix_server", "/usr/share/zabbix/api_jsonrpc.php", "/usr/bin/php"} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%s is missing (scripts/test installs postgresql, zabbix-server-pgsql, zabbix-frontend-php, php-pgsql and php-cli)", f)
		}
	}
	pg, err := user.Lookup("postgres")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(pg.Uid)
	gid, _ := strconv.Atoi(pg.Gid)
	// PostgreSQL refuses to run as root: its directory is the postgres
	// user's, outside the test's own (mode 0700, root's).
	dir, err := os.MkdirTemp("", "fedmsg-zabbix-")
	if err != nil {
		t.Fatal(err)
	}
	cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	os.Chown(dir, uid, gid)
	z := &zabbixServer{dir: dir, trapper: "127.0.0.1:" + lowPort(t), web: "127.0.0.1:" + freePortForCheck(t)}
	pgPort := freePortForCheck(t)
	asPostgres := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, Setpgid: true}

	// The database, loaded once per schema and kept (loadedZabbixDB).
	if out, err := exec.Command("cp", "-a", loadedZabbixDB(t, asPostgres), filepath.Join(dir, "pg")).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	startPostgres(t, func(name string, attr *syscall.SysProcAttr, argv ...string) {
		z.start(t, cleanup, name, attr, argv...)
	}, asPostgres, dir, pgPort)

	conf := fmt.Sprintf(`ListenIP=127.0.0.1
ListenPort=%s
LogType=console
PidFile=%s/zabbix_server.pid
SocketDir=%s
DBHost=127.0.0.1
DBPort=%s
DBName=zabbix
DBUser=zabbix
AllowRoot=1
CacheUpdateFrequency=3
StartPollers=2
StartPollersUnreachable=1
StartPingers=0
StartDiscoverers=0
StartHTTPPollers=0
StartTrappers=4
StartDBSyncers=1
StartLLDProcessors=1
`, strings.Split(z.trapper, ":")[1], dir, dir, pgPort)
	if tls != nil {
		conf += fmt.Sprintf("TLSCAFile=%s\nTLSCertFile=%s\nTLSKeyFile=%s\n", tls.ca, tls.cert, tls.key)
	}
	os.WriteFile(filepath.Join(dir, "zabbix_server.conf"), []byte(conf), 0o644)
	z.start(t, cleanup, "zabbix_server", &syscall.SysProcAttr{Setpgid: true}, "/usr/sbin/zabbix_server", "-f", "-c", filepath.Join(dir, "zabbix_server.conf"))

	// The frontend reads its configuration from a path built into it
	// (Debian's /etc/zabbix/zabbix.conf.php): a copy of it reads the
	// test's own.
	web := filepath.Join(dir, "web")
	if out, err := exec.Command("cp", "-a", "/usr/share/zabbix", web).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	cf := filepath.Join(web, "include/classes/core/CConfigFile.php")
	src, _ := os.ReadFile(cf)
	patched := strings.Replace(string(src), "'/etc/zabbix/zabbix.conf.php'", "'"+filepath.Join(dir, "zabbix.conf.php")+"'", 1)
	if patched == string(src) {
		t.Fatal("the frontend's configuration path is not where it was (CConfigFile::CONFIG_FILE_PATH)")
	}
	os.WriteFile(cf, []byte(patched), 0o644)
	os.WriteFile(filepath.Join(dir, "zabbix.conf.php"), []byte(fmt.Sprintf(`<?php
$DB['TYPE'] = 'POSTGRESQL';
$DB['SERVER'] = '127.0.0.1';
$DB['PORT'] = '%s';
$DB['DATABASE'] = 'zabbix';
$DB['USER'] = 'zabbix';
$DB['PASSWORD'] = '';
$DB['SCHEMA'] = '';
$DB['ENCRYPTION'] = false;
$DB['KEY_FILE'] = '';
$DB['CERT_FILE'] = '';
$DB['CA_FILE'] = '';
$DB['VERIFY_HOST'] = false;
$DB['CIPHER_LIST'] = '';
$DB['VAULT_URL'] = '';
$DB['VAULT_DB_PATH'] = '';
$DB['VAULT_TOKEN'] = '';
$DB['DOUBLE_IEEE754'] = true;
$ZBX_SERVER = '127.0.0.1';
$ZBX_SERVER_PORT = '%s';
$ZBX_SERVER_NAME = 'test';
$IMAGE_FORMAT_DEFAULT = IMAGE_FORMAT_PNG;
`, pgPort, strings.Split(z.trapper, ":")[1])), 0o644)
	// PHP's built-in server, on a port found free that another server
	// or an outgoing connection may take first (a CI run with the tests
	// in several processes failed so): when PHP fails to listen, again
	// on another.
	for attempt := 1; ; attempt++ {
		name := "php"
		if attempt > 1 {
			name, z.web = fmt.Sprintf("php-%d", attempt), "127.0.0.1:"+freePortForCheck(t)
		}
		z.start(t, cleanup, name, &syscall.SysProcAttr{Setpgid: true}, "/usr/bin/php", "-S", z.web, "-t", web)
		taken := false
		eventually(t, 30*time.Second, "the frontend's API answers", func() (bool, string) {
			if b, _ := os.ReadFile(filepath.Join(z.dir, name+".log")); attempt < 3 && bytes.Contains(b, []byte("Failed to listen")) {
				taken = true
				return true, ""
			}
			var token string
			err := z.call("user.login", map[string]string{"username": "Admin", "password": "zabbix"}, &token)
			z.auth = token
			return err == nil && token != "", fmt.Sprint(err)
		})
		if !taken {
			return z
		}
	}
}

// start runs a server process, logging to a file of z's directory; the
// function given to cleanup stops it (its process group).
func (z *zabbixServer) start(t testing.TB, cleanup func(func()), name string, attr *syscall.SysProcAttr, argv ...string) {
	t.Helper()
	f, _ := os.Create(filepath.Join(z.dir, name+".log"))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr, cmd.SysProcAttr, cmd.Dir = f, f, attr, z.dir
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		f.Close()
	})
}

// logOnFailure shows, when t fails, the end of the server's logs and of
// those of the agents started for t.
func (z *zabbixServer) logOnFailure(t testing.TB, agents ...string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, name := range append([]string{"postgres", "zabbix_server", "php"}, agents...) {
			b, _ := os.ReadFile(filepath.Join(z.dir, name+".log"))
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("%s's log, its end:\n%s", name, b)
		}
	})
}

// lowPort returns a free port from 1024 to 32767, the range Zabbix's
// ListenPort takes, never the same twice in a process: two servers
// started side by side must not both be given one port free at the time.
func lowPort(t testing.TB) string {
	t.Helper()
	lowPorts.Lock()
	defer lowPorts.Unlock()
	if lowPorts.next == 0 {
		lowPorts.next = 20000 + os.Getpid()%10000
	}
	for p := lowPorts.next; ; p = 1024 + (p+7919)%31744 {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err == nil {
			ln.Close()
			lowPorts.next = 1024 + (p+7919)%31744
			return strconv.Itoa(p)
		}
	}
}

var lowPorts struct {
	sync.Mutex
	next int
}

// call calls the API; result, when not nil, takes the result.
func (z *zabbixServer) call(method string, params, result any) error {
	req := map[string]any{"jsonrpc": "2.0", "method": method, "params": params, "id": 1}
	if z.auth != "" {
		req["auth"] = z.auth
	}
	body, _ := json.Marshal(req)
	resp, err := http.Post("http://"+z.web+"/api_jsonrpc.php", "application/json-rpc", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r struct {
		Result json.RawMessage
		Error  *struct {
			Message, Data string
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return fmt.Errorf("%s: %s, not JSON-RPC: %w", method, resp.Status, err)
	}
	if r.Error != nil {
		return fmt.Errorf("%s: %s %s", method, r.Error.Message, r.Error.Data)
	}
	if result == nil {
		return nil
	}
	return json.Unmarshal(r.Result, result)
}

// must calls the API and fails the test on an error.
func (z *zabbixServer) must(t testing.TB, method string, params, result any) {
	t.Helper()
	if err := z.call(method, params, result); err != nil {
		t.Fatal(err)
	}
}
