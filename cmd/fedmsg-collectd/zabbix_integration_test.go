package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// TestZabbixIntegration: Debian's Zabbix 6.0 server, its database and its
// frontend's API on loopback. The template that "zabbix --template" prints
// is imported through the API, two hosts are made with it linked, and the
// zabbix command pushes a hub's values to them, to one over TLS with
// certificates (TLSAccept=cert). Read back through the API: the items the
// discovery made, history values equal to those the hub published, the
// triggers of a queue whose expected wait and oldest message's age are
// over their macros in PROBLEM, that of a stalled one, none of an idle
// one, and a hub nothing publishes on down.
func TestZabbixIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	z, client := sharedZabbix(t), sharedZ.client

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tplID, groupID := sharedZ.tpl, sharedZ.group
	hostids := map[string]string{}
	for _, h := range []struct {
		name   string
		accept int
	}{{"hubhost", 1}, {"tlshost", 4}} {
		var made struct{ Hostids []string }
		z.must(t, "host.create", map[string]any{"host": h.name, "groups": []any{map[string]string{"groupid": groupID}},
			"templates": []any{map[string]string{"templateid": tplID}}, "tls_accept": h.accept,
			"macros": []any{map[string]string{"macro": `{$FEDMSG.WAIT.WARN:"FMNConsumer"}`, "value": "0.5"},
				map[string]string{"macro": `{$FEDMSG.AGE.WARN:"FMNConsumer"}`, "value": "0.2"},
				map[string]string{"macro": `{$FEDMSG.STALL.MAX:"StuckConsumer"}`, "value": "1"}}}, &made)
		hostids[h.name] = made.Hostids[0]
	}

	// A hub whose FMNConsumer has 42 then 40 messages waiting, its idle
	// consumer (named with a quote, a comma and brackets) none, and its
	// StuckConsumer 30 that it never takes; and a hub nothing publishes on.
	dir := t.TempDir()
	var files []string
	for i, backlog := range []int{42, 40} {
		msg := fmt.Sprintf(`{"consumers": [{"name": "FMNConsumer", "module": "fmn.consumer", "topic": "t", "initialized": true,
		  "exceptions": %d, "backlog": %d, "headcount_in": 25, "headcount_out": 20, "times": [%s]},
		  {"name": "Idle \"x\", [y]", "module": "m", "topic": "t", "initialized": true, "exceptions": 0, "backlog": 0,
		  "headcount_in": 0, "headcount_out": 0, "times": []},
		  {"name": "StuckConsumer", "module": "m", "topic": "t", "initialized": true, "exceptions": 0, "backlog": 30,
		  "headcount_in": 0, "headcount_out": 0, "times": []}], "producers": []}`, i, backlog, strings.TrimSuffix(strings.Repeat("0.1, ", 20), ", "))
		files = append(files, filepath.Join(dir, fmt.Sprint(i, ".json")))
		os.WriteFile(files[i], []byte(msg), 0o644)
	}
	ep := "ipc://" + filepath.Join(dir, "monitoring-fedmsg-hub.socket")
	testhub.Start(t, ep, 500*time.Millisecond, files...)
	gone := "fedmsg-gone=tcp://127.0.0.1:" + freePortForCheck(t)
	common := []string{"zabbix", "--socket-dir=", "--endpoint", "fedmsg-hub=" + ep, "--endpoint", gone, "--zabbix-server", z.trapper, "--interval", "1s"}
	outs := make([]*testhub.Buffer, 3)
	done := make(chan int, 3)
	for i, extra := range [][]string{
		{"--zabbix-host", "hubhost"},
		{"--zabbix-host", "tlshost", "--zabbix-tls-connect", "cert", "--zabbix-tls-ca-file", client.ca,
			"--zabbix-tls-cert-file", client.cert, "--zabbix-tls-key-file", client.key},
		{"--zabbix-host", "tlshost", "--log-level", "warn"}, // unencrypted: refused
	} {
		outs[i] = &testhub.Buffer{}
		go func() { done <- run(ctx, append(slices.Clone(common), extra...), outs[i], outs[i]) }()
	}

	backlog := `fedmsg.consumer.backlog["fedmsg-hub","FMNConsumer"]`
	for _, host := range []string{"hubhost", "tlshost"} {
		eventuallyEvery(t, 90*time.Second, zabbixPoll, host+": FMNConsumer's backlog history", func() (bool, string) {
			id, ok := z.itemID(t, hostids[host], backlog)
			if !ok {
				return false, "no item yet"
			}
			vs := z.history(t, id)
			return len(vs) >= 4, fmt.Sprint(vs)
		})
	}
	id, _ := z.itemID(t, hostids["hubhost"], backlog)
	for _, v := range z.history(t, id) {
		if v != 42 && v != 40 {
			t.Errorf("FMNConsumer's backlog history holds %g: the hub published 42 and 40", v)
		}
	}
	// A name with a quote, a comma and brackets: one parameter.
	idle, ok := z.itemID(t, hostids["hubhost"], `fedmsg.consumer.backlog["fedmsg-hub","Idle \"x\", [y]"]`)
	if !ok {
		t.Fatal("no item for the idle consumer")
	}
	for _, v := range z.history(t, idle) {
		if v != 0 {
			t.Errorf("Idle's backlog history holds %g: the hub published 0", v)
		}
	}
	eventuallyEvery(t, 60*time.Second, zabbixPoll, "FMNConsumer's wait trigger and the lost hub's in PROBLEM", func() (bool, string) {
		p := z.problems(t, map[string]string{"hubhost": hostids["hubhost"]})
		return strings.Contains(p, "fedmsg-hub FMNConsumer: a message arriving now waits over 0.5 s") &&
			strings.Contains(p, "fedmsg-hub FMNConsumer: the oldest message has waited over 0.2 s") &&
			strings.Contains(p, "fedmsg-hub StuckConsumer: consumers attached take nothing while messages wait") &&
			strings.Contains(p, "fedmsg-gone is down"), p
	})
	// The lost hub's reason: the operational data of its trigger.
	var reasons []struct{ Lastvalue string }
	z.must(t, "item.get", map[string]any{"hostids": hostids["hubhost"], "filter": map[string]any{"key_": `fedmsg.hub.reason["fedmsg-gone"]`},
		"output": []string{"lastvalue"}}, &reasons)
	if len(reasons) != 1 || !strings.Contains(reasons[0].Lastvalue, "no snapshot on tcp://127.0.0.1:") {
		t.Errorf("the lost hub's reason item: %+v", reasons)
	}
	if p := z.problems(t, map[string]string{"hubhost": hostids["hubhost"]}); strings.Contains(p, "Idle") {
		t.Errorf("a trigger of the idle consumer in PROBLEM:\n%s", p)
	}
	eventually(t, 60*time.Second, "the unencrypted push to the TLS-only host refused, and said", func() (bool, string) {
		return strings.Contains(outs[2].String(), "failed values"), outs[2].String()
	})
	cancel()
	for range outs {
		if code := <-done; code != 0 {
			t.Errorf("zabbix exit %d", code)
		}
	}
	for i, o := range outs[:2] {
		if s := o.String(); strings.Contains(s, "level=ERROR") {
			t.Errorf("instance %d logged:\n%s", i, s)
		}
	}
}

// makeCerts writes a CA, a certificate and key signed by it for the
// server and another for the client, in dir.
func makeCerts(t testing.TB, dir string) (server, client *zabbixTLS) {
	t.Helper()
	// RSA: Zabbix's TLS with certificates takes RSA and ECDHE-RSA key
	// exchanges only.
	caKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o644)
		return p
	}
	caFile := write("ca.pem", "CERTIFICATE", caDER)
	leaf := func(name string, serial int64, usage x509.ExtKeyUsage) *zabbixTLS {
		key, _ := rsa.GenerateKey(rand.Reader, 2048)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now().Add(-time.Hour),
			NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, _ := x509.MarshalPKCS8PrivateKey(key)
		return &zabbixTLS{ca: caFile, cert: write(name+".pem", "CERTIFICATE", der), key: write(name+".key", "PRIVATE KEY", kder)}
	}
	return leaf("zabbix-server", 2, x509.ExtKeyUsageServerAuth), leaf("fedmsg-collectd", 3, x509.ExtKeyUsageClientAuth)
}
