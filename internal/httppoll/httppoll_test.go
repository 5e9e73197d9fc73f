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
