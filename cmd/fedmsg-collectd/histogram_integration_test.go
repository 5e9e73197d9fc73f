package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// captureHub starts a hub that publishes, every 200 ms, the consumers of
// the real captures in internal/model/testdata that list at least 10
// times, each renamed after its capture ("ipc-01 FMNConsumer"). It
// returns the hub's endpoint and each consumer's exact 95th percentile:
// the smallest of its times that at least 95 % of them do not exceed,
// which is the 95th percentile of the times of any number of publishes.
func captureHub(t *testing.T, dir string) (string, map[string]float64) {
	t.Helper()
	type consumer map[string]any
	var all []consumer
	p95 := map[string]float64{}
	for _, name := range []string{"ipc-01", "ipc-06", "tcp-01"} {
		raw, err := os.ReadFile(filepath.Join("../../internal/model/testdata", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var capture struct{ Consumers []consumer }
		if err := json.Unmarshal(raw, &capture); err != nil {
			t.Fatal(err)
		}
		for _, c := range capture.Consumers {
			var times []float64
			for _, x := range c["times"].([]any) {
				times = append(times, x.(float64))
			}
			if len(times) < 10 {
				continue
			}
			slices.Sort(times)
			c["name"] = name + " " + c["name"].(string)
			p95[c["name"].(string)] = times[int(math.Ceil(0.95*float64(len(times))))-1]
			all = append(all, c)
		}
	}
	msg, _ := json.Marshal(map[string]any{"consumers": all, "producers": []any{}})
	file := filepath.Join(dir, "captures.json")
	os.WriteFile(file, msg, 0o644)
	ep := "ipc://" + filepath.Join(dir, "monitoring-fedmsg-captures.socket")
	testhub.Run(t, testhub.Config{Endpoint: ep, Period: 200 * time.Millisecond, Files: []string{file}})
	return ep, p95
}

// checkHistogram: the dashboard's 95th percentile, histogram_quantile
// over the buckets Prometheus scraped, is within 30 % of the exact one
// for every consumer of the captures.
func checkHistogram(t *testing.T, prom string, p95 map[string]float64) {
	t.Helper()
	var table strings.Builder
	eventually(t, 60*time.Second, "the histograms' 95th percentiles within 30 %", func() (bool, string) {
		var bad strings.Builder
		table.Reset()
		for _, c := range slices.Sorted(maps.Keys(p95)) {
			want := p95[c]
			got, s := promQuery(prom, fmt.Sprintf(`histogram_quantile(0.95, sum by (service, consumer, le)`+
				` (rate(fedmsg_consumer_processing_seconds_bucket{service="fedmsg-captures",consumer=%q}[10s])))`, c))
			fmt.Fprintf(&table, "\n%-28s exact %9.3g histogram %9.3g  %+4.0f %%", c, want, got, 100*(got-want)/want)
			if math.Abs(got-want) > 0.3*want {
				fmt.Fprintf(&bad, "\n%s: %.3g, exact %.3g: %s", c, got, want, s)
			}
		}
		return bad.Len() == 0, bad.String()
	})
	t.Logf("95th percentiles of processing times:%s", table.String())
}
