package rabbitmq

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestMoreAttacks: what else a peer may send. A redirect loop on the same
// server, a gzip bomb, an answer trickled a byte at a time, a certificate
// nobody vouches for: each a failed poll, bounded in time and memory. A
// name over 255 bytes, a count over 2^53, vhosts past MaxVHosts: left out
// and counted.
func TestMoreAttacks(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/loop/api/queues", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop/api/queues", http.StatusFound)
	})
	// 64 MiB unpacked, about 64 KB sent: packed once, before the polls,
	// so that a loaded machine's server is not what the poll waits for.
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write([]byte(`[{"name":"`))
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	for range 64 {
		zw.Write(chunk)
	}
	zw.Close()
	mux.HandleFunc("/bomb/api/queues", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb.Bytes())
	})
	mux.HandleFunc("/trickle/api/queues", func(w http.ResponseWriter, r *http.Request) {
		for {
			if _, err := w.Write([]byte(" ")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "[]") }))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes refused are expected
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	for _, tt := range []struct {
		url, want string
		permanent bool
		interval  time.Duration // each poll is given half
	}{
		{srv.URL + "/loop", "redirected more than 3 times", true, 4 * time.Second},
		{srv.URL + "/bomb", "over 256 KiB", false, 4 * time.Second},
		{srv.URL + "/trickle", "time out", false, 4 * time.Second},
		// A TLS handshake on a machine busy with the race detector's
		// tests once took over 2 s: more time, not to time out first.
		{tlsSrv.URL, "certificate", true, 20 * time.Second},
	} {
		s := &Source{URL: tt.url, Interval: tt.interval}
		s.init()
		start := time.Now()
		collect(s)
		w := s.Watched()[0]
		if w.Failed != 1 || !strings.Contains(w.LastError, tt.want) || (s.Hopeless() != "") != tt.permanent || time.Since(start) > tt.interval/2+time.Second {
			t.Errorf("%s: %+v, hopeless %q, in %v", tt.url, w, s.Hopeless(), time.Since(start))
		}
	}

	long := strings.Repeat("n", 256)
	var qs []string
	for i := range MaxVHosts + 5 {
		qs = append(qs, fmt.Sprintf(`{"name":"q","vhost":"/v%d","messages_ready":1}`, i))
	}
	body := `[{"name":"` + long + `","vhost":"/","messages_ready":1},
	  {"name":"q","vhost":"/` + long + `","messages_ready":1},
	  {"name":"huge","vhost":"/","messages_ready":1e17},
	  {"name":"ok","vhost":"/","messages_ready":1},` + strings.Join(qs, ",") + `]`
	_, s := brokerFor(t, body)
	got := collect(s)
	if m := got["fedmsg_rabbitmq-default"]; m.Snapshot == nil || len(m.Snapshot.Consumers) != 1 || m.Snapshot.Consumers[0].Name != "ok" || m.Snapshot.Skipped != 1 {
		t.Errorf("vhost /: %+v", m.Snapshot)
	}
	if w := s.Watched(); w[0].Skipped != 2+6 || len(w) != 1+MaxVHosts { // "/" is one of the vhosts
		t.Errorf("broker: %d skipped (want 8), %d services (want %d)", w[0].Skipped, len(w), 1+MaxVHosts)
	}
}
