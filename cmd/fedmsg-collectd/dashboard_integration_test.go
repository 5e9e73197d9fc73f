package main

import (
	"encoding/json"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// checkDashboard runs every query of the Grafana dashboard in docs/
// against the Prometheus at prom, its variables set to every value: each
// panel's queries, and each variable's, return data.
func checkDashboard(t *testing.T, prom string) {
	t.Helper()
	raw, err := os.ReadFile("../../docs/grafana/fedmsg-collectd.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Templating struct {
			List []struct {
				Name, Type string
				Query      json.RawMessage
			}
		}
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("the dashboard is not the JSON expected: %v", err)
	}
	vars := strings.NewReplacer(`"$service"`, `".+"`, `"$consumer"`, `".+"`, "$__rate_interval", "10s")
	labelValues := regexp.MustCompile(`^label_values\((.+), *(\w+)\)$`)
	for _, v := range dash.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct{ Query string }
		json.Unmarshal(v.Query, &q)
		m := labelValues.FindStringSubmatch(q.Query)
		if m == nil {
			t.Errorf("variable %s: query %q is not label_values(METRIC, LABEL)", v.Name, q.Query)
			continue
		}
		expr := "group by (" + m[2] + ") (" + vars.Replace(m[1]) + ")"
		eventually(t, 30*time.Second, "variable "+v.Name, func() (bool, string) {
			n, body := promCount(prom, expr)
			return n > 0, body
		})
	}
	if len(dash.Panels) < 8 {
		t.Errorf("%d panels", len(dash.Panels))
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
			continue
		}
		// Drain time and growth are there only while the backlog
		// shrinks, resp. grows: any moment of the cycle will do.
		eventually(t, 30*time.Second, "data for the panel "+p.Title, func() (bool, string) {
			var bodies []string
			for _, tg := range p.Targets {
				n, body := promCount(prom, vars.Replace(tg.Expr))
				if n > 0 {
					return true, ""
				}
				bodies = append(bodies, tg.Expr+": "+body)
			}
			return false, strings.Join(bodies, "\n")
		})
	}
}

// promCount runs an instant query and returns how many of its series
// have a number (not NaN), with the answer.
func promCount(addr, q string) (int, string) {
	vs, body := promValues(addr, q)
	n := 0
	for _, v := range vs {
		if !math.IsNaN(v) {
			n++
		}
	}
	return n, body
}
