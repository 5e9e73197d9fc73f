package zabbix

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// TemplateName is the template's technical name, which the triggers'
// expressions name.
const TemplateName = "fedmsg-collectd"

// The template's macros and their defaults. The wait thresholds take a
// context: {$FEDMSG.WAIT.WARN:"FMNConsumer"} sets one consumer's.
var macros = []struct{ name, value, help string }{
	{"{$FEDMSG.WAIT.WARN}", "300", "Expected wait, in seconds, over which a consumer's queue warns; per consumer with the consumer as context."},
	{"{$FEDMSG.WAIT.CRIT}", "1800", "Expected wait, in seconds, over which a consumer's queue is a high-severity problem; per consumer likewise."},
	{"{$FEDMSG.STALL.MAX}", "60", "Seconds a consumer's queue may go with consumers attached and nothing taken before it is a high-severity problem; per consumer with the consumer as context."},
	{"{$FEDMSG.AGE.WARN}", "600", "Age, in seconds, of the oldest message waiting over which a consumer's queue warns; per consumer likewise."},
	{"{$FEDMSG.NOCONSUMER.PERIOD}", "5m", "How long a queue with messages must have had no consumer to be a problem (a redeploy takes less)."},
	{"{$FEDMSG.BACKLOG.WARN}", "0", "Messages waiting over which a consumer's queue warns; 0: off. Per consumer with the consumer as context, as check_rabbitmq_queue's thresholds."},
	{"{$FEDMSG.BACKLOG.CRIT}", "0", "Messages waiting over which a consumer's queue is a high-severity problem; 0: off. Per consumer likewise."},
	{"{$FEDMSG.LLD.FILTER.SERVICE.MATCHES}", ".*", "The services discovered: a regular expression their names match."},
	{"{$FEDMSG.LLD.FILTER.SERVICE.NOT_MATCHES}", "CHANGE_IF_NEEDED", "The services left out: a regular expression their names match."},
	{"{$FEDMSG.LLD.FILTER.CONSUMER.MATCHES}", ".*", "The consumers (a broker's queues) discovered: a regular expression their names match."},
	{"{$FEDMSG.LLD.FILTER.CONSUMER.NOT_MATCHES}", "CHANGE_IF_NEEDED", "The consumers left out: a regular expression their names match (ephemeral or per-user queues)."},
	{"{$FEDMSG.GROWTH.PERIOD}", "10m", "How long a backlog must have grown at every snapshot to be a problem."},
	{"{$FEDMSG.NODATA}", "5m", "How long without values before a service, or fedmsg-collectd itself, is silent."},
}

// Template writes the template in Zabbix 6.0's YAML export format: trapper
// items of the program's own health, a discovery rule of the services
// with their liveness and counters, one of the consumers with their
// figures, triggers on time rather than counts, and graphs. Every key it
// holds is one the sink pushes, named from the catalogue of kinds.
func Template(w io.Writer) error {
	y := &yamlWriter{}
	y.line(0, "zabbix_export:")
	y.kv(1, "version", "6.0")
	y.line(1, "groups:")
	y.item(2)
	y.kv(3, "uuid", uuid("group"))
	y.kv(3, "name", "Templates/Applications")
	y.line(1, "templates:")
	y.item(2)
	y.kv(3, "uuid", uuid("template"))
	y.kv(3, "template", TemplateName)
	y.kv(3, "name", "fedmsg-collectd: queue waits and drain times")
	y.kv(3, "description", "Values pushed by fedmsg-collectd zabbix (trapper items): per consumer of a fedmsg hub, "+
		"queue of a RabbitMQ broker or stage behind counters, its backlog, expected wait, Little's wait, drain time "+
		"and rates; per service whether it is up. Link it to the host named by --zabbix-host.")
	y.line(3, "groups:")
	y.item(4)
	y.kv(5, "name", "Templates/Applications")
	y.line(3, "items:")
	for _, k := range report.Kinds() {
		if pushed(k) && k.Scope() == report.Process {
			y.trapItem(4, k.Info().Name, key(k, "", ""), "fedmsg-collectd: "+k.Info().Name, unit(k), k.Info().Help, nil)
		}
	}
	y.trapItem(4, "dropped", keyDropped, "fedmsg-collectd: values dropped", "",
		"Values dropped from the full buffer while the server could not take them, since the start.", []trigger{
			{"dropped", fmt.Sprintf("change(/%s/%s)>0", TemplateName, keyDropped), "fedmsg-collectd dropped values: the Zabbix server did not take them in time", "WARNING"},
			{"self silent", fmt.Sprintf("nodata(/%s/%s,{$FEDMSG.NODATA})=1", TemplateName, keyDropped), "fedmsg-collectd is silent: no values for {$FEDMSG.NODATA}", "HIGH"},
		})
	y.trapItem(4, "failed", keyFailed, "fedmsg-collectd: values failed", "",
		"Values the server failed (items it does not have yet, or values it refused), since the start.", nil)
	y.line(3, "discovery_rules:")
	services(y)
	consumers(y)
	y.line(3, "macros:")
	for _, m := range macros {
		y.item(4)
		y.kv(5, "macro", m.name)
		y.kv(5, "value", m.value)
		y.kv(5, "description", m.help)
	}
	_, err := io.WriteString(w, y.b.String())
	return err
}

// services writes the discovery rule of the services.
func services(y *yamlWriter) {
	y.rule("services", ServicesDiscovery, "The services fedmsg-collectd watches: hubs, broker vhosts, counters services.", "SERVICE")
	for _, k := range report.Kinds() {
		if !pushed(k) || k.Scope() != report.Hub && k.Scope() != report.Endpoint {
			continue
		}
		var ts []trigger
		if k == report.HubUp {
			kk := key(k, "{#SERVICE}", "")
			ts = []trigger{
				{"down", fmt.Sprintf("last(/%s/%s)=0", TemplateName, kk), "{#SERVICE} is down: its snapshots stopped arriving", "HIGH"},
				{"service silent", fmt.Sprintf("nodata(/%s/%s,{$FEDMSG.NODATA})=1", TemplateName, kk), "{#SERVICE} is silent: nothing about it for {$FEDMSG.NODATA}", "AVERAGE"},
			}
		}
		name := "fedmsg {#SERVICE}: " + k.Info().Name
		if k.Scope() == report.Endpoint {
			name = "fedmsg-collectd {#SERVICE}: " + k.Info().Name
		}
		y.trapItem(6, "service "+k.Info().Name, key(k, "{#SERVICE}", ""), name, unit(k), k.Info().Help, ts)
	}
}

// consumers writes the discovery rule of the consumers.
func consumers(y *yamlWriter) {
	y.rule("consumers", ConsumersDiscovery, "The consumers of each service: a hub's consumers, a broker's queues, the queues between a counters service's stages.", "SERVICE", "CONSUMER")
	k := func(kind report.Kind) string { return key(kind, "{#SERVICE}", "{#CONSUMER}") }
	for _, kind := range report.Kinds() {
		if !pushed(kind) || kind.Scope() != report.Entry {
			continue
		}
		var ts []trigger
		switch kind {
		case report.ExpectedWait:
			ts = []trigger{
				{"wait warn", fmt.Sprintf(`last(/%s/%s)>{$FEDMSG.WAIT.WARN:"{#CONSUMER}"}`, TemplateName, k(kind)),
					"{#SERVICE} {#CONSUMER}: a message arriving now waits over {$FEDMSG.WAIT.WARN:\"{#CONSUMER}\"} s", "WARNING"},
				{"wait crit", fmt.Sprintf(`last(/%s/%s)>{$FEDMSG.WAIT.CRIT:"{#CONSUMER}"}`, TemplateName, k(kind)),
					"{#SERVICE} {#CONSUMER}: a message arriving now waits over {$FEDMSG.WAIT.CRIT:\"{#CONSUMER}\"} s", "HIGH"},
			}
		case report.Stalled:
			ts = []trigger{{"stalled", fmt.Sprintf(`last(/%s/%s)>{$FEDMSG.STALL.MAX:"{#CONSUMER}"}`, TemplateName, k(kind)),
				"{#SERVICE} {#CONSUMER}: consumers attached take nothing while messages wait", "HIGH"}}
		case report.OldestAge:
			ts = []trigger{{"oldest", fmt.Sprintf(`last(/%s/%s)>{$FEDMSG.AGE.WARN:"{#CONSUMER}"}`, TemplateName, k(kind)),
				"{#SERVICE} {#CONSUMER}: the oldest message has waited over {$FEDMSG.AGE.WARN:\"{#CONSUMER}\"} s", "WARNING"}}
		case report.GrowthRate:
			// Every value of the period, and the last before it: grown
			// for the whole period, not since the first value.
			ts = []trigger{{"growing", fmt.Sprintf("min(/%[1]s/%[2]s,{$FEDMSG.GROWTH.PERIOD})>0 and last(/%[1]s/%[2]s,#1:now-{$FEDMSG.GROWTH.PERIOD})>0",
				TemplateName, k(kind)),
				"{#SERVICE} {#CONSUMER}: the backlog has grown for {$FEDMSG.GROWTH.PERIOD}", "WARNING"}}
		case report.Backlog:
			// Counts, off unless a macro sets them (check_rabbitmq_queue's).
			ts = []trigger{
				{"backlog warn", fmt.Sprintf(`{$FEDMSG.BACKLOG.WARN:"{#CONSUMER}"}>0 and last(/%s/%s)>{$FEDMSG.BACKLOG.WARN:"{#CONSUMER}"}`, TemplateName, k(kind)),
					"{#SERVICE} {#CONSUMER}: over {$FEDMSG.BACKLOG.WARN:\"{#CONSUMER}\"} messages wait", "WARNING"},
				{"backlog crit", fmt.Sprintf(`{$FEDMSG.BACKLOG.CRIT:"{#CONSUMER}"}>0 and last(/%s/%s)>{$FEDMSG.BACKLOG.CRIT:"{#CONSUMER}"}`, TemplateName, k(kind)),
					"{#SERVICE} {#CONSUMER}: over {$FEDMSG.BACKLOG.CRIT:\"{#CONSUMER}\"} messages wait", "HIGH"},
			}
		}
		y.trapItem(6, "consumer "+kind.Info().Name, k(kind), "fedmsg {#SERVICE} {#CONSUMER}: "+kind.Info().Name, unit(kind), kind.Info().Help, ts)
	}
	y.line(5, "trigger_prototypes:")
	// For the whole period, so that a consumer's redeploy does not page.
	y.triggerEntry(6, trigger{"no consumers", fmt.Sprintf("min(/%[1]s/%[2]s,{$FEDMSG.NOCONSUMER.PERIOD})>0 and max(/%[1]s/%[3]s,{$FEDMSG.NOCONSUMER.PERIOD})=0 and last(/%[1]s/%[3]s,#1:now-{$FEDMSG.NOCONSUMER.PERIOD})=0",
		TemplateName, k(report.Backlog), k(report.Workers)),
		"{#SERVICE} {#CONSUMER}: messages wait and no consumer has been attached for {$FEDMSG.NOCONSUMER.PERIOD}", "AVERAGE"})
	y.line(5, "graph_prototypes:")
	for _, g := range []struct {
		name  string
		kinds []report.Kind
	}{
		{"backlog", []report.Kind{report.Backlog, report.InService}},
		{"waits", []report.Kind{report.ExpectedWait, report.Wait, report.DrainTime, report.OldestAge, report.Stalled}},
		{"rates", []report.Kind{report.ArrivalRate, report.ServiceRate, report.GrowthRate}},
	} {
		y.item(6)
		y.kv(7, "uuid", uuid("graph "+g.name))
		y.kv(7, "name", "fedmsg {#SERVICE} {#CONSUMER}: "+g.name)
		y.line(7, "graph_items:")
		for i, kind := range g.kinds {
			y.item(8)
			if i > 0 {
				y.kv(9, "sortorder", fmt.Sprint(i))
			}
			y.kv(9, "color", []string{"1A7C11", "2774A4", "F63100", "A54F10", "FC6EA3"}[i])
			y.line(9, "item:")
			y.kv(10, "host", TemplateName)
			y.kv(10, "key", k(kind))
		}
	}
}

// rule starts a trapper discovery rule of the template, its item
// prototypes next. Its filter discovers only what the LLD macros of each
// of filtered ({#SERVICE}, {#CONSUMER}) match and do not exclude, as the
// official templates' {$...LLD.FILTER...MATCHES} and NOT_MATCHES do.
func (y *yamlWriter) rule(what, key, help string, filtered ...string) {
	y.item(4)
	y.kv(5, "uuid", uuid("rule "+what))
	y.kv(5, "name", "fedmsg "+what)
	y.kv(5, "type", "TRAP")
	y.kv(5, "key", key)
	y.kv(5, "delay", "0")
	y.kv(5, "lifetime", "7d")
	y.kv(5, "description", help)
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
// id names it for its uuid.
type trigger struct{ id, expression, name, priority string }

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

// trapItem writes a trapper item (or prototype) of float values.
func (y *yamlWriter) trapItem(depth int, id, key, name, units, help string, ts []trigger) {
	y.item(depth)
	d := depth + 1
	y.kv(d, "uuid", uuid("item "+id))
	y.kv(d, "name", name)
	y.kv(d, "type", "TRAP")
	y.kv(d, "key", key)
	y.kv(d, "delay", "0")
	y.kv(d, "history", "7d")
	y.kv(d, "value_type", "FLOAT")
	if units != "" {
		y.kv(d, "units", units)
	}
	y.kv(d, "description", help)
	y.line(d, "tags:")
	y.item(d + 1)
	y.kv(d+2, "tag", "component")
	y.kv(d+2, "value", "fedmsg")
	if len(ts) == 0 {
		return
	}
	tag := "triggers:"
	if strings.Contains(key, "{#") {
		tag = "trigger_prototypes:"
	}
	y.line(d, tag)
	for _, t := range ts {
		y.triggerEntry(d+1, t)
	}
}

func (y *yamlWriter) triggerEntry(depth int, t trigger) {
	y.item(depth)
	y.kv(depth+1, "uuid", uuid("trigger "+t.id))
	y.kv(depth+1, "expression", t.expression)
	y.kv(depth+1, "name", t.name)
	y.kv(depth+1, "priority", t.priority)
}

// uuid returns a stable UUID (version 4 in form, 32 hex digits) for a part
// of the template: the same on every export, so an import updates it.
func uuid(of string) string {
	h := md5.Sum([]byte("fedmsg-collectd template: " + of))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return hex.EncodeToString(h[:])
}
