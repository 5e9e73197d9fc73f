package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// TestCountersSource: the plugin polls a small HTTP server whose stage
// counters grow at 100 and 60 events a second, and writes the queue
// between the stages: its length, the rates in and out, the expected wait.
func TestCountersSource(t *testing.T) {
	start := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := time.Since(start).Seconds()
		fmt.Fprintf(w, `{"Uploaded": %d, "Staged": %d, "Done": %d}`, int(100*s), int(60*s), int(60*s))
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs testhub.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--counters", "pipeline=" + srv.URL, "--counters-interval", "250ms",
			"--interval", "1s", "--smoothing", "1s", "--hostname", "h"}, &out, &errs)
	}()
	deadline := time.Now().Add(20 * time.Second)
	var in, served, wait, backlog float64
	ok := false
	for time.Now().Before(deadline) && !ok {
		time.Sleep(50 * time.Millisecond)
		s := out.String()
		_, iv := putvals(s, "h/pipeline/operations_per_second-Uploaded_to_Staged_arrival_rate")
		_, sv := putvals(s, "h/pipeline/operations_per_second-Uploaded_to_Staged_service_rate")
		_, wv := putvals(s, "h/pipeline/duration-Uploaded_to_Staged_expected_wait")
		_, bv := putvals(s, "h/pipeline/queue_length-Uploaded_to_Staged_backlog")
		if len(iv) > 5 && len(sv) > 5 && len(wv) > 5 && len(bv) > 5 {
			in, served, wait, backlog = iv[len(iv)-1], sv[len(sv)-1], wv[len(wv)-1], bv[len(bv)-1]
			ok = true
		}
	}
	cancel()
	<-done
	if !ok {
		t.Fatalf("no queue values within 20 s:\n%s\n%s", out.String(), errs.String())
	}
	if math.Abs(in-100) > 10 || math.Abs(served-60) > 6 {
		t.Errorf("rates in %v and out %v, want 100 and 60", in, served)
	}
	if want := backlog / 60; math.Abs(wait-want) > 0.2*want {
		t.Errorf("expected wait %v with backlog %v served at 60/s, want about %v", wait, backlog, want)
	}
	if !strings.Contains(out.String(), `"h/pipeline/queue_length-Staged_to_Done_backlog"`) || errs.String() != "" {
		t.Errorf("the second queue, or errors: %s", errs.String())
	}
}
