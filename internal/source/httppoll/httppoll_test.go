package httppoll

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGet(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			io.WriteString(w, `[1,2,3]`)
		case "/exact":
			io.WriteString(w, strings.Repeat("x", 100))
		case "/big":
			for range 1000 {
				io.WriteString(w, strings.Repeat("x", 1000))
			}
		case "/reason":
			// A status line with a long reason, as a hostile server sends.
			w.Header().Set("X", "y")
			http.Error(w, "no", http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	get := func(path string, max int64, decode func(io.Reader) error) error {
		req, _ := http.NewRequest(http.MethodGet, "http://user:secret@"+strings.TrimPrefix(srv.URL, "http://")+path, nil)
		return Get(context.Background(), srv.Client(), req, max, decode)
	}
	var xs []int
	if err := get("/ok", 100, func(r io.Reader) error { return json.NewDecoder(r).Decode(&xs) }); err != nil || len(xs) != 3 {
		t.Errorf("ok: %v %v", xs, err)
	}
	n := 0
	if err := get("/exact", 100, func(r io.Reader) error { b, err := io.ReadAll(r); n = len(b); return err }); err != nil || n != 100 {
		t.Errorf("an answer of exactly the limit: %d bytes, %v", n, err)
	}
	read := 0
	err := get("/big", 4096, func(r io.Reader) error { b, err := io.ReadAll(r); read = len(b); return err })
	if !errors.Is(err, ErrOversize) || read > 4096 {
		t.Errorf("an answer over the limit: %v after %d bytes", err, read)
	}
	err = get("/reason", 100, func(io.Reader) error { return nil })
	if !errors.Is(err, ErrStatus) || !strings.Contains(err.Error(), "401") {
		t.Errorf("401: %v", err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://user:secret@127.0.0.1:1/", nil)
	err = Get(context.Background(), http.DefaultClient, req, 100, func(io.Reader) error { return nil })
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("refused: %v (must not show the password)", err)
	}
}

func TestDelta(t *testing.T) {
	for _, c := range []struct{ now, before, want float64 }{{10, 4, 6}, {4, 4, 0}, {3, 10, 3}, {0, 10, 0}} {
		if got := Delta(c.now, c.before); got != c.want {
			t.Errorf("Delta(%v, %v) = %v, want %v", c.now, c.before, got, c.want)
		}
	}
}

// TestRedact: no user, password or query shown, whatever the flag held.
func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"http://mon:s3cret@host:15672/x":     "http://host:15672/x",
		"https://host/c?token=s3cret":        "https://host/c?...",
		"mon:s3cret@host:15672":              "...@host:15672",
		"http//mon:s3cret@host":              "...@host",
		"host:15672":                         "host:15672",
		"host:15672?key=s3cret":              "host:15672?...",
		"http://[::1:s3cret":                 "(a URL that does not parse)",
		"http://mon:s3%cret@[::1]:15672/api": "...@[::1]:15672/api",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBrief: one line, at most MaxErrorBytes and a mark, whole characters.
func TestBrief(t *testing.T) {
	long := errors.New("status 503 " + strings.Repeat("é\n", 400))
	got := Brief(long)
	if len(got) > MaxErrorBytes+3 || strings.Contains(got, "\n") || !strings.HasSuffix(got, "...") || !utf8.ValidString(got) {
		t.Errorf("Brief: %d bytes %q", len(got), got)
	}
	if Brief(nil) != "" || Brief(errors.New("short")) != "short" {
		t.Error("Brief of nil or a short error")
	}
}
