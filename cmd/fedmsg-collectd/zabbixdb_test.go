package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// startPostgres starts the PostgreSQL of data directory dir/pg on port,
// with start (which runs a server process), and waits for it.
func startPostgres(t testing.TB, start func(string, *syscall.SysProcAttr, ...string), asPostgres *syscall.SysProcAttr, dir, port string) {
	t.Helper()
	// Durability is not what the test is about: off, the schema loads in
	// a few seconds.
	start("postgres", asPostgres, pgBin+"/postgres", "-D", filepath.Join(dir, "pg"), "-p", port, "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	eventually(t, 30*time.Second, "PostgreSQL up", func() (bool, string) {
		out, err := exec.Command("psql", "-h", "127.0.0.1", "-p", port, "-U", "zabbix", "-d", "postgres", "-c", "select 1").CombinedOutput()
		return err == nil, string(out)
	})
}

// zabbixSQL are the files of Debian's Zabbix schema, loaded in order.
var zabbixSQL = []string{"schema", "images", "data"}

// loadedZabbixDB returns a PostgreSQL data directory with Zabbix's
// database loaded, made once and kept, as Go keeps its builds: in the
// user's cache directory, keyed on the schema's files and PostgreSQL's
// version, so that a new schema or server makes it again. Loading takes
// both cores for 15-20 s; copying it, a fraction of a second.
func loadedZabbixDB(t testing.TB, asPostgres *syscall.SysProcAttr) string {
	t.Helper()
	h := sha256.New()
	version, err := exec.Command(pgBin+"/postgres", "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	h.Write(version)
	for _, f := range zabbixSQL {
		b, err := os.ReadFile("/usr/share/zabbix-server-pgsql/" + f + ".sql.gz")
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	cached := filepath.Join(base, "fedmsg-collectd-test", fmt.Sprintf("zabbix-pg-%x", h.Sum(nil)[:8]))
	if _, err := os.Stat(filepath.Join(cached, "PG_VERSION")); err == nil {
		return cached
	}
	// Made in a directory of its own that PostgreSQL's user may enter,
	// stopped cleanly, copied beside the cache and renamed into place: a
	// run stopped half-way leaves nothing that looks done.
	work, err := os.MkdirTemp("", "fedmsg-zabbix-load-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(work)
	os.Chmod(work, 0o755)
	os.Chown(work, int(asPostgres.Credential.Uid), int(asPostgres.Credential.Gid))
	initdb := exec.Command(pgBin+"/initdb", "-D", filepath.Join(work, "pg"), "-U", "zabbix", "-A", "trust", "-E", "UTF8")
	initdb.SysProcAttr, initdb.Dir = asPostgres, work
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port := freePortForCheck(t)
	pg := exec.Command(pgBin+"/postgres", "-D", filepath.Join(work, "pg"), "-p", port, "-k", work,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	pg.SysProcAttr, pg.Dir = asPostgres, work
	if err := pg.Start(); err != nil {
		t.Fatalf("postgres: %v", err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			pg.Process.Signal(syscall.SIGINT) // a fast shutdown, with a checkpoint
			pg.Wait()
		}
	}
	defer stop()
	psql := func(db string, stdin io.Reader, args ...string) {
		t.Helper()
		cmd := exec.Command("psql", append([]string{"-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", port, "-U", "zabbix", "-d", db}, args...)...)
		cmd.Stdin = stdin
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("psql %v: %v\n%.2000s", args, err, out)
		}
	}
	eventually(t, 30*time.Second, "PostgreSQL up", func() (bool, string) {
		out, err := exec.Command("psql", "-h", "127.0.0.1", "-p", port, "-U", "zabbix", "-d", "postgres", "-c", "select 1").CombinedOutput()
		return err == nil, string(out)
	})
	psql("postgres", nil, "-c", "create database zabbix")
	var sql bytes.Buffer
	for _, f := range zabbixSQL {
		b, _ := os.ReadFile("/usr/share/zabbix-server-pgsql/" + f + ".sql.gz")
		r, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(&sql, r)
	}
	psql("zabbix", &sql)
	// The server's own host and its agent items: polled for nothing here.
	psql("zabbix", nil, "-c", "update hosts set status = 1 where host = 'Zabbix server'")
	stop()
	os.MkdirAll(filepath.Dir(cached), 0o755)
	tmp := cached + fmt.Sprintf(".%d", os.Getpid())
	defer os.RemoveAll(tmp)
	if out, err := exec.Command("cp", "-a", filepath.Join(work, "pg"), tmp).CombinedOutput(); err != nil {
		t.Fatalf("keeping the loaded database: %v %s", err, out)
	}
	if err := os.Rename(tmp, cached); err != nil {
		if _, statErr := os.Stat(filepath.Join(cached, "PG_VERSION")); statErr != nil {
			t.Fatalf("keeping the loaded database: %v", err) // not another run's, done meanwhile
		}
	}
	return cached
}
