package zabbix

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
)

// rule starts a discovery rule of the template, its item prototypes
// next: a trapper one, or in the agent's template one that takes path of
// the master item's document. Its filter discovers only what the LLD
// macros of each of filtered ({#SERVICE}, {#CONSUMER}) match and do not
// exclude, as the official templates' {$...LLD.FILTER...MATCHES} and
// NOT_MATCHES do.
func (y *yamlWriter) rule(f flavour, what, key, path, help string, filtered ...string) {
	y.item(4)
	y.kv(5, "uuid", f.uuid("rule "+what))
	y.kv(5, "name", "fedmsg "+what)
	if f.agent {
		y.kv(5, "type", "DEPENDENT")
	} else {
		y.kv(5, "type", "TRAP")
	}
	y.kv(5, "key", key)
	y.kv(5, "delay", "0")
	y.kv(5, "lifetime", "7d")
	y.kv(5, "description", help)
	if f.agent {
		y.preprocessing(5, path, false)
		// The server discovers again only when the rows change, or
		// every quarter of an hour: not at every read.
		y.item(6)
		y.kv(7, "type", "DISCARD_UNCHANGED_HEARTBEAT")
		y.line(7, "parameters:")
		y.line(8, "- '15m'")
		y.master(5)
	}
	y.line(5, "filter:")
	y.kv(6, "evaltype", "AND")
	y.line(6, "conditions:")
	id := 'A'
	for _, f := range filtered {
		for _, c := range []struct{ which, op string }{{"MATCHES", ""}, {"NOT_MATCHES", "NOT_MATCHES_REGEX"}} {
			y.item(7)
			y.kv(8, "macro", "{#"+f+"}")
			y.kv(8, "value", "{$FEDMSG.LLD.FILTER."+f+"."+c.which+"}")
			if c.op != "" {
				y.kv(8, "operator", c.op)
			}
			y.kv(8, "formulaid", string(id))
			id++
		}
	}
	y.line(5, "item_prototypes:")
}

// trigger is a trigger (prototype): its expression, name and severity;
// id names it for its uuid. Its operational data, when set, is shown
// beside it in the problem views.
type trigger struct {
	id, expression, name, priority string
	opdata                         string
}

// yamlWriter writes the YAML of the export format: every scalar quoted.
type yamlWriter struct{ b strings.Builder }

func (y *yamlWriter) line(depth int, s string) {
	y.b.WriteString(strings.Repeat("  ", depth) + s + "\n")
}

// item starts an element of a list: a "-" alone on its line, as Zabbix's
// own exports write them.
func (y *yamlWriter) item(depth int) { y.line(depth, "-") }

func (y *yamlWriter) kv(depth int, k, v string) {
	y.line(depth, k+": '"+strings.ReplaceAll(v, "'", "''")+"'")
}

// valueItem writes an item (or prototype) of float values: a trapper
// one, or in the agent's template one that takes path of the master
// item's document (a total, when delta, that it turns into the change
// since the previous read).
func (y *yamlWriter) valueItem(f flavour, depth int, id, key, path string, delta bool, name, units, help string, ts []trigger) {
	d := y.itemHead(f, depth, id, key, name)
	y.kv(d, "history", "7d")
	y.kv(d, "value_type", "FLOAT")
	if units != "" {
		y.kv(d, "units", units)
	}
	y.itemTail(f, d, help, path, delta)
	if len(ts) == 0 {
		return
	}
	tag := "triggers:"
	if strings.Contains(key, "{#") {
		tag = "trigger_prototypes:"
	}
	y.line(d, tag)
	for _, t := range ts {
		y.triggerEntry(f, d+1, t)
	}
}

// textItem writes an item (or prototype) of text values, without
// triggers of its own.
func (y *yamlWriter) textItem(f flavour, depth int, id, key, path, name, help string) {
	d := y.itemHead(f, depth, id, key, name)
	y.kv(d, "history", "7d")
	y.kv(d, "trends", "0")
	y.kv(d, "value_type", "TEXT")
	y.itemTail(f, d, help, path, false)
}

// itemHead starts an item of either template, and returns the depth of
// its fields.
func (y *yamlWriter) itemHead(f flavour, depth int, id, key, name string) int {
	y.item(depth)
	d := depth + 1
	y.kv(d, "uuid", f.uuid("item "+id))
	y.kv(d, "name", name)
	if f.agent {
		y.kv(d, "type", "DEPENDENT")
	} else {
		y.kv(d, "type", "TRAP")
	}
	y.kv(d, "key", key)
	y.kv(d, "delay", "0")
	return d
}

// itemTail ends an item: its description, in the agent's template where
// it takes its value from, and its tag.
func (y *yamlWriter) itemTail(f flavour, d int, help, path string, delta bool) {
	switch {
	case delta && f.agent:
		help += " Here: the count between two reads of the agent."
	case delta:
		help += " Here: the count since the item's value before (the push sums the snapshots' counts over --zabbix-detail, 1m by default)."
	}
	y.kv(d, "description", help)
	if f.agent {
		y.preprocessing(d, path, delta)
		y.master(d)
	}
	y.line(d, "tags:")
	y.item(d + 1)
	y.kv(d+2, "tag", "component")
	y.kv(d+2, "value", "fedmsg")
}

// preprocessing writes the steps of a value of the agent's document: its
// JSONPath (no value when the document has none: a figure absent now, a
// consumer whose source is down), then for a total the change since the
// previous read (Zabbix discards a negative one: the program restarted).
func (y *yamlWriter) preprocessing(depth int, path string, delta bool) {
	y.line(depth, "preprocessing:")
	y.item(depth + 1)
	y.kv(depth+2, "type", "JSONPATH")
	y.line(depth+2, "parameters:")
	y.line(depth+3, "- '"+strings.ReplaceAll(path, "'", "''")+"'")
	y.kv(depth+2, "error_handler", "DISCARD_VALUE")
	if delta {
		y.item(depth + 1)
		y.kv(depth+2, "type", "SIMPLE_CHANGE")
		y.line(depth+2, "parameters:")
		y.line(depth+3, "- ''")
	}
}

// master names the agent template's master item.
func (y *yamlWriter) master(depth int) {
	y.line(depth, "master_item:")
	y.kv(depth+1, "key", agentMasterKey)
}

func (y *yamlWriter) triggerEntry(f flavour, depth int, t trigger) {
	y.item(depth)
	y.kv(depth+1, "uuid", f.uuid("trigger "+t.id))
	y.kv(depth+1, "expression", t.expression)
	y.kv(depth+1, "name", t.name)
	y.kv(depth+1, "priority", t.priority)
	if t.opdata != "" {
		y.kv(depth+1, "opdata", t.opdata)
	}
}

// uuid returns a stable UUID (version 4 in form, 32 hex digits) for a part
// of the template: the same on every export, so an import updates it; the
// agent's template's parts have their own.
func (f flavour) uuid(of string) string {
	if f.agent {
		of = "agent " + of
	}
	return uuid(of)
}

func uuid(of string) string {
	h := md5.Sum([]byte("fedmsg-collectd template: " + of))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return hex.EncodeToString(h[:])
}
