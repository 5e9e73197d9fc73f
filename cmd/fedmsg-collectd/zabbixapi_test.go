package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// itemID returns the id of the item of a host with key, if there is one.
func (z *zabbixServer) itemID(t testing.TB, hostid, key string) (string, bool) {
	t.Helper()
	var items []struct{ Itemid string }
	z.must(t, "item.get", map[string]any{"hostids": hostid, "filter": map[string]any{"key_": key}}, &items)
	if len(items) != 1 {
		return "", false
	}
	return items[0].Itemid, true
}

// history returns the float values an item holds, oldest first.
func (z *zabbixServer) history(t testing.TB, itemid string) []float64 {
	t.Helper()
	var h []struct{ Value string }
	z.must(t, "history.get", map[string]any{"history": 0, "itemids": []string{itemid}, "sortfield": "clock", "limit": 1000}, &h)
	var vs []float64
	for _, v := range h {
		f, _ := strconv.ParseFloat(v.Value, 64)
		vs = append(vs, f)
	}
	return vs
}

// problems returns the names of the triggers in PROBLEM on the hosts (by
// name: their ids), each prefixed by its host's name when there are
// several, sorted, a line each.
func (z *zabbixServer) problems(t testing.TB, hosts map[string]string) string {
	t.Helper()
	var names []string
	for name, id := range hosts {
		var tr []struct{ Description string }
		z.must(t, "trigger.get", map[string]any{"hostids": id, "filter": map[string]any{"value": 1}, "expandDescription": true,
			"output": []string{"description"}}, &tr)
		for _, x := range tr {
			if len(hosts) > 1 {
				x.Description = name + ": " + x.Description
			}
			names = append(names, x.Description)
		}
	}
	slices.Sort(names)
	return strings.Join(names, "\n")
}
