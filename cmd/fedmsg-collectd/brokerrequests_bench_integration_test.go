package main

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/source/rabbitmq"
	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// BenchmarkBrokerRequestsIntegration measures what each request of the
// management source costs a broker of 1000 queues with 20 msg/s through
// 10 of them: each kind asked once a second over a window
// (FEDMSG_BENCH_WINDOW, default 20s), the broker's CPU over that of a
// window without requests, per request. Kinds: the list of every
// queue's statistics, the lengths now, the overview, and one page of the
// 10 busy queues' statistics asked by name. It prints BROKERREQ lines,
// twice each in the order idle, list, lengths, overview, page, so that a
// drift of the broker's load shows.
func BenchmarkBrokerRequestsIntegration(b *testing.B) {
	var t testing.TB = b
	testhub.Integration(t)
	window := benchWindow()
	br, declare := benchBroker(t)
	defer br.stop()
	declare(0, 1000)
	stop := make(chan struct{})
	done := trafficThrough(t, br, 10, stop)
	defer func() { close(stop); <-done }()
	time.Sleep(15 * time.Second) // the queues' first statistics
	src := &rabbitmq.Source{URL: "http://guest:guest@" + br.mgmt}
	list, _ := src.Request(t.Context())
	live, _ := src.LiveRequest(t.Context())
	page := list.URL.String() + "&page=1&page_size=500&use_regex=true&name=%5E%28%3F%3Aqueue%5C.0000%5B0-9%5D%29%24"
	get := func(u string) int {
		req, _ := http.NewRequest("GET", u, nil)
		req.SetBasicAuth("guest", "guest")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", u, resp.Status)
		}
		return int(n)
	}
	var idle float64 // the broker's CPU seconds a second without requests
	kinds := []struct{ name, url string }{
		{"idle", ""}, {"list", list.URL.String()}, {"lengths", live.URL.String()},
		{"overview", "http://" + br.mgmt + "/api/overview?columns=" + rabbitmq.OverviewColumns}, {"page", page},
	}
	for range 2 {
		for _, k := range kinds {
			c0, n, bytes := groupCPU(br.pgid), 0, 0
			start := time.Now()
			for time.Since(start) < window {
				if k.url != "" {
					bytes = get(k.url)
					n++
				}
				time.Sleep(time.Second) // pacing: one request a second
			}
			cpu := (groupCPU(br.pgid) - c0) / time.Since(start).Seconds()
			if k.url == "" {
				idle = cpu
				fmt.Printf("BROKERREQ idle %.3f s/min\n", 60*cpu)
				continue
			}
			per := (cpu - idle) * time.Since(start).Seconds() / float64(n)
			fmt.Printf("BROKERREQ %s %.1f ms of broker CPU a request (%d bytes); %.2f s/min at one every 10 s\n", k.name, 1000*per, bytes, 6*per)
		}
	}
}
