package promexp

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// bigSink is a sink with 20 hubs of 50 consumers.
func bigSink() *Sink {
	s := New(nil)
	for h := range 20 {
		b := snap(t0, 1)
		b.Service = fmt.Sprintf("hub-%d", h)
		b.Subjects, b.Values = nil, nil
		for c := range 50 {
			b.Subjects = append(b.Subjects, fmt.Sprintf("Consumer%d", c))
			b.Values = append(b.Values, report.Value{Kind: report.Backlog, Subject: c, V: float64(c)},
				report.Value{Kind: report.TimeCount, Subject: c, V: 1}, report.Value{Kind: report.TimeSum, Subject: c, V: 0.1})
		}
		s.Write(report.Update{Snapshots: []report.Batch{b}})
	}
	return s
}

func serve(t *testing.T, s *Sink) string {
	t.Helper()
	h, err := Handler(s, "/metrics", "test", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := Server(h)
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// TestHostileClients: a client stalled in its headers, one that never
// reads its answer, a huge request and a malformed one do not hold up
// collection or the scrapes of others, and the stalled client is cut off
// by the server's timeout.
func TestHostileClients(t *testing.T) {
	s := bigSink()
	addr := serve(t, s)

	stalled, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	fmt.Fprint(stalled, "GET /metrics HTTP/1.1\r\nHost: x\r\n") // and never the end
	// Many scrapes that never read their answers.
	var lazy []net.Conn
	for range 8 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprint(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
		lazy = append(lazy, c)
	}
	// Collection goes on meanwhile.
	done := make(chan struct{})
	go func() {
		for i := range 50 {
			s.Write(report.Update{Snapshots: []report.Batch{snap(t0.Add(time.Duration(i)*time.Second), 1)}})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Write held up by clients that do not read")
	}
	for _, tt := range []struct {
		req  string
		code int
	}{
		{"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 64<<10) + "\r\n\r\n", 431},
		{"GARBAGE\r\n\r\n", 400},
		{"GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n", 404},
	} {
		if code := rawStatus(t, addr, tt.req); code != tt.code {
			t.Errorf("%.40q: status %d, want %d", tt.req, code, tt.code)
		}
	}
	// Concurrent scrapes by others all work.
	var wg sync.WaitGroup
	codes := make(chan int, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get("http://" + addr + "/metrics")
			if err != nil {
				codes <- 0
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && !strings.Contains(string(body), `fedmsg_consumer_backlog{service="hub-19",consumer="Consumer49"} 49`) {
				codes <- -1
				return
			}
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Errorf("concurrent scrape: %d (-1: wrong values, 0: no answer)", c)
		}
	}
	// The stalled client is cut off by the header timeout.
	stalled.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := stalled.Read(make([]byte, 1)); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Errorf("stalled client still connected after 10 s: %v", err)
	}
}

func rawStatus(t *testing.T, addr, req string) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, req)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestLandingLinks: every link of the landing page answers 200.
func TestLandingLinks(t *testing.T) {
	addr := serve(t, New(nil))
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	links := regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(string(page), -1)
	local := 0
	for _, l := range links {
		href := l[1]
		if strings.HasPrefix(href, "http") || strings.HasPrefix(href, "#") {
			continue // elsewhere, or on the page itself
		}
		local++
		u := "http://" + addr + "/" + strings.TrimPrefix(href, "/")
		r, err := http.Get(u)
		if err != nil || r.StatusCode != 200 {
			t.Errorf("link %s: %v %v", href, err, r.Status)
		}
		if r != nil {
			r.Body.Close()
		}
	}
	if local == 0 {
		t.Errorf("no local link on the landing page:\n%s", page)
	}
}

// TestGzipCrowd: while maxGzips scrapes are gzipped, another that
// accepts gzip is answered plain, in full; once one ends, gzipped again.
func TestGzipCrowd(t *testing.T) {
	s := bigSink()
	addr := serve(t, s)
	var dones []func()
	for range maxGzips {
		gz, done := s.gather.gzipper(io.Discard)
		if gz == nil {
			t.Fatal("no compressor while none is in use")
		}
		dones = append(dones, done)
	}
	scrape := func() (encoding, body string) {
		req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req) // no transparent decompression
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Header.Get("Content-Encoding"), string(b)
	}
	want := `fedmsg_consumer_backlog{service="hub-19",consumer="Consumer49"} 49`
	if enc, body := scrape(); enc != "" || !strings.Contains(body, want) {
		t.Errorf("with every compressor in use: Content-Encoding %q, %d bytes, want plain with %s", enc, len(body), want)
	}
	dones[0]()
	enc, body := scrape()
	if enc != "gzip" {
		t.Fatalf("with a compressor free: Content-Encoding %q, want gzip", enc)
	}
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if plain, _ := io.ReadAll(zr); !strings.Contains(string(plain), want) {
		t.Errorf("gzipped answer without %s", want)
	}
	dones[1]()
}
