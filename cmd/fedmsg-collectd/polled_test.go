package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// TestSourcesNeverAnsweringIntegration: brokers and a counters service that never
// answer (a wrong password, a closed port) are reported from the start:
// hub_up 0, failed polls counted from the first, a FAILURE notification
// that says why; no credentials anywhere in what the plugin writes.
func TestSourcesNeverAnsweringIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t) // on the wall clock: a source's liveness, polls
	deny := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	defer deny.Close()
	forbid := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer forbid.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	secret := func(u string) string { return strings.Replace(u, "http://", "http://mon:s3cret@", 1) }
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs testhub.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--socket-dir=", "--idle-periods", "1", "--interval", "1s", "--hostname", "h",
			"--rabbitmq", "denied=" + secret(deny.URL), "--rabbitmq", "gone=" + secret(closed), "--rabbitmq-interval", "1s",
			"--counters", "stages=" + secret(forbid.URL) + "/c?token=s3cret", "--counters-interval", "1s"}, &out, &errs)
	}()
	defer func() { cancel(); <-done }()
	want := map[string]string{
		"denied": "(status 401 Unauthorized)",
		"gone":   "connection refused)",
		"stages": "(status 403 Forbidden)",
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := out.String()
		missing := ""
		for sv, why := range want {
			_, up := putvals(s, "h/"+sv+"/bool-hub_up")
			_, failed := putvals(s, "h/fedmsg-collectd/derive-"+sv+"_failed_polls")
			if len(up) == 0 || up[len(up)-1] != 0 || len(failed) == 0 || failed[len(failed)-1] < 3 ||
				!strings.Contains(s, `PUTNOTIF severity=failure`) || !notified(s, sv, why) {
				missing = sv
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no hub_up 0, failed polls and notification saying why within 20 s:\n%s\n%s", missing, s, errs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if all := out.String() + errs.String(); strings.Contains(all, "s3cret") || strings.Contains(all, "mon:") {
		t.Errorf("credentials shown:\n%s", all)
	}
}

// notified reports whether s has a failure notification of service sv
// (its plugin field) whose message ends with why.
func notified(s, sv, why string) bool {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "PUTNOTIF severity=failure") && strings.Contains(l, `plugin="`+sv+`"`) && strings.Contains(l, why) {
			return true
		}
	}
	return false
}

// TestNothingToWatch: no discovery and no source is a usage error, said.
func TestNothingToWatch(t *testing.T) {
	var out, errs testhub.Buffer
	code := run(context.Background(), []string{"--socket-dir="}, &out, &errs)
	if code == 0 || !strings.Contains(errs.String(), "nothing to watch") {
		t.Errorf("exit %d, stderr %q", code, errs.String())
	}
}

// TestNeverAnsweringElsewhereIntegration: the exporter and the Netdata plugin show a
// broker that never answered as down too, with its failed polls.
func TestNeverAnsweringElsewhereIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t) // on the wall clock: a source's liveness, polls
	deny := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	defer deny.Close()
	ctx, cancel := context.WithCancel(context.Background())
	common := []string{"--socket-dir=", "--idle-periods", "1", "--rabbitmq", "denied=" + deny.URL, "--rabbitmq-interval", "1s"}
	addr := "127.0.0.1:" + freePortForCheck(t)
	var expOut, expErr, ndOut, ndErr testhub.Buffer
	done := make(chan int, 2)
	go func() {
		done <- run(ctx, append([]string{"exporter", "--web.listen-address", addr, "--interval", "1s"}, common...), &expOut, &expErr)
	}()
	go func() { done <- run(ctx, append([]string{"netdata"}, common...), &ndOut, &ndErr) }()
	defer func() { cancel(); <-done; <-done }()
	eventually(t, 20*time.Second, "the exporter's series of the broker", func() (bool, string) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		s := string(b)
		return strings.Contains(s, `fedmsg_hub_up{service="denied"} 0`) &&
			regexp.MustCompile(`fedmsg_exporter_failed_polls_total\{[^}]*"denied"[^}]*\} [1-9]`).MatchString(s), s
	})
	eventually(t, 20*time.Second, "Netdata's chart of the broker down", func() (bool, string) {
		s := ndOut.String()
		i := strings.LastIndex(s, "BEGIN fedmsg.denied_up")
		return i >= 0 && strings.Contains(s[i:], "SET up = 0"), s
	})
}
