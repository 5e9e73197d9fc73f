package zabbix

import (
	"fmt"
	"io"

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
	{"{$FEDMSG.NODATA}", "5m", "How long without values before a service, or fedmsg-collectd itself, is silent, and a consumer's triggers let go (a queue deleted, a source down)."},
}

// AgentTemplateName is the agent template's technical name.
const AgentTemplateName = "fedmsg-collectd by Zabbix agent"

// agentMasterKey is the agent template's master item: the agent reads
// the document at {$FEDMSG.AGENT.URL}.
const agentMasterKey = `web.page.get["{$FEDMSG.AGENT.URL}"]`

// flavour is one of the two templates: trapper items the zabbix command
// pushes to, or the agent's, whose items take their values from the
// document that the host's agent reads (Document).
type flavour struct {
	name, title, description string
	agent                    bool
}

var (
	trapperTemplate = flavour{name: TemplateName, title: "fedmsg-collectd: queue waits and drain times",
		description: "Values pushed by fedmsg-collectd zabbix (trapper items): per consumer of a fedmsg hub, " +
			"queue of a RabbitMQ broker or stage behind counters, its backlog, expected wait, Little's wait, drain time " +
			"and rates; per service whether it is up. Link it to the host named by --zabbix-host."}
	agentTemplate = flavour{name: AgentTemplateName, title: AgentTemplateName, agent: true,
		description: "The values of fedmsg-collectd zabbix --zabbix-listen, read by the host's Zabbix agent " +
			"(web.page.get, so on the agent's connection, PSK included): per consumer of a fedmsg hub, " +
			"queue of a RabbitMQ broker or stage behind counters, its backlog, expected wait, Little's wait, drain time " +
			"and rates; per service whether it is up. The same keys, macros and triggers as the trapper template " +
			"(link one or the other to a host, not both); counts are per read of the agent."}
)

// agentMacros are the agent template's own macros.
var agentMacros = []struct{ name, value, help string }{
	{"{$FEDMSG.AGENT.URL}", "http://" + DefaultListen + "/", "Where the agent reads fedmsg-collectd's values: its --zabbix-listen address."},
	{"{$FEDMSG.AGENT.INTERVAL}", "30s", "How often the agent reads them."},
}

// Template writes the trapper template in Zabbix 6.0's YAML export
// format: trapper items of the program's own health, a discovery rule of
// the services with their liveness and counters, one of the consumers
// with their figures, triggers on time rather than counts, and graphs.
// Every key it holds is one the sink pushes, named from the catalogue of
// kinds.
func Template(w io.Writer) error { return template(w, trapperTemplate) }

// AgentTemplate writes the agent's template: the same keys, macros and
// triggers, its items dependent on one master item, the agent's read of
// the document that --zabbix-listen serves.
func AgentTemplate(w io.Writer) error { return template(w, agentTemplate) }

func template(w io.Writer, f flavour) error {
	y := &yamlWriter{}
	y.line(0, "zabbix_export:")
	y.kv(1, "version", "6.0")
	y.line(1, "groups:")
	y.item(2)
	y.kv(3, "uuid", uuid("group"))
	y.kv(3, "name", "Templates/Applications")
	y.line(1, "templates:")
	y.item(2)
	y.kv(3, "uuid", f.uuid("template"))
	y.kv(3, "template", f.name)
	y.kv(3, "name", f.title)
	y.kv(3, "description", f.description)
	y.line(3, "groups:")
	y.item(4)
	y.kv(5, "name", "Templates/Applications")
	y.line(3, "items:")
	if f.agent {
		agentItems(y)
	}
	for _, k := range report.Kinds() {
		if pushed(k) && k.Scope() == report.Process {
			var ts []trigger
			if f.agent && k == report.Goroutines {
				ts = []trigger{{"self silent", fmt.Sprintf("nodata(/%s/%s,{$FEDMSG.NODATA})=1", f.name, key(k, "", "")),
					"fedmsg-collectd is silent: the agent has read no values for {$FEDMSG.NODATA}", "HIGH", ""}}
			}
			y.valueItem(f, 4, k.Info().Name, key(k, "", ""), path(k), false, "fedmsg-collectd: "+k.Info().Name, unit(k), k.Info().Help, ts)
		}
	}
	if !f.agent {
		trapperItems(y)
	}
	y.line(3, "discovery_rules:")
	services(y, f)
	consumers(y, f)
	y.line(3, "macros:")
	ms := macros
	if f.agent {
		ms = append(agentMacros, macros...)
	}
	for _, m := range ms {
		y.item(4)
		y.kv(5, "macro", m.name)
		y.kv(5, "value", m.value)
		y.kv(5, "description", m.help)
	}
	_, err := io.WriteString(w, y.b.String())
	return err
}

// agentItems writes the agent template's master item: the agent's read of
// the document, kept only to feed the others (its HTTP head cut off, as
// the official RabbitMQ agent template does).
func agentItems(y *yamlWriter) {
	y.item(4)
	y.kv(5, "uuid", agentTemplate.uuid("item document"))
	y.kv(5, "name", "fedmsg-collectd: values read by the agent")
	y.kv(5, "key", agentMasterKey)
	y.kv(5, "delay", "{$FEDMSG.AGENT.INTERVAL}")
	y.kv(5, "history", "0")
	y.kv(5, "trends", "0")
	y.kv(5, "value_type", "TEXT")
	y.kv(5, "description", "The JSON document that fedmsg-collectd zabbix --zabbix-listen serves; the other items take their values from it.")
	y.line(5, "preprocessing:")
	y.item(6)
	y.kv(7, "type", "REGEX")
	y.line(7, "parameters:")
	y.line(8, `- '\n\s?\n(.*)'`)
	y.line(8, `- '\1'`)
	y.line(5, "tags:")
	y.item(6)
	y.kv(7, "tag", "component")
	y.kv(7, "value", "fedmsg")
}

// trapperItems writes the trapper template's items of the sink's own
// counters.
func trapperItems(y *yamlWriter) {
	f := trapperTemplate
	y.valueItem(f, 4, "dropped", keyDropped, "", false, "fedmsg-collectd: values dropped", "",
		"Values dropped from the full buffer while the server could not take them, since the start.", []trigger{
			{"dropped", fmt.Sprintf("change(/%s/%s)>0", TemplateName, keyDropped), "fedmsg-collectd dropped values: the Zabbix server did not take them in time", "WARNING", ""},
			{"self silent", fmt.Sprintf("nodata(/%s/%s,{$FEDMSG.NODATA})=1", TemplateName, keyDropped), "fedmsg-collectd is silent: no values for {$FEDMSG.NODATA}", "HIGH", ""},
		})
	y.valueItem(f, 4, "failed", keyFailed, "", false, "fedmsg-collectd: values failed", "",
		"Values the server failed (items it does not have yet, or values it refused), since the start.", nil)
}

// services writes the discovery rule of the services.
func services(y *yamlWriter, f flavour) {
	y.rule(f, "services", ServicesDiscovery, "$.services", "The services fedmsg-collectd watches: hubs, broker vhosts, counters services.", "SERVICE")
	var down trigger
	for _, k := range report.Kinds() {
		if !pushed(k) || k.Scope() != report.Hub && k.Scope() != report.Endpoint {
			continue
		}
		var ts []trigger
		if k == report.HubUp {
			kk := key(k, "{#SERVICE}", "")
			// The reason is in the expression for its value to be the
			// operational data (a text always has a length): a trigger of
			// two items, the rule's.
			down = trigger{"down", fmt.Sprintf("last(/%[1]s/%[2]s)=0 and length(last(/%[1]s/%[3]s))>=0", f.name, kk, reason("{#SERVICE}")),
				"{#SERVICE} is down: its snapshots stopped arriving", "HIGH", "{ITEM.LASTVALUE2}"}
			ts = []trigger{
				{"service silent", fmt.Sprintf("nodata(/%s/%s,{$FEDMSG.NODATA})=1", f.name, kk), "{#SERVICE} is silent: nothing about it for {$FEDMSG.NODATA}", "AVERAGE", ""},
			}
		}
		name := "fedmsg {#SERVICE}: " + k.Info().Name
		if k.Scope() == report.Endpoint {
			name = "fedmsg-collectd {#SERVICE}: " + k.Info().Name
		}
		y.valueItem(f, 6, "service "+k.Info().Name, key(k, "{#SERVICE}", ""), path(k), false, name, unit(k), k.Info().Help, ts)
	}
	y.textItem(f, 6, "service reason", reason("{#SERVICE}"), "$.reason.{#SID}", "fedmsg {#SERVICE}: why it is down, or back",
		"What fedmsg-collectd said when it lost the source (the reason its polls failed, without credentials), or heard it again.")
	y.line(5, "trigger_prototypes:")
	y.triggerEntry(f, 6, down)
}

// consumers writes the discovery rule of the consumers.
func consumers(y *yamlWriter, f flavour) {
	y.rule(f, "consumers", ConsumersDiscovery, "$.consumers", "The consumers of each service: a hub's consumers, a broker's queues, the queues between a counters service's stages.", "SERVICE", "CONSUMER")
	k := func(kind report.Kind) string { return key(kind, "{#SERVICE}", "{#CONSUMER}") }
	for _, kind := range report.Kinds() {
		if !pushed(kind) || kind.Scope() != report.Entry {
			continue
		}
		y.valueItem(f, 6, "consumer "+kind.Info().Name, k(kind), path(kind), kind.Info().Type == report.Delta,
			"fedmsg {#SERVICE} {#CONSUMER}: "+kind.Info().Name, unit(kind), kind.Info().Help, consumerTriggers(f, kind))
	}
	y.line(5, "trigger_prototypes:")
	// For the whole period, so that a consumer's redeploy does not page.
	y.triggerEntry(f, 6, trigger{"no consumers", fmt.Sprintf("min(/%[1]s/%[2]s,{$FEDMSG.NOCONSUMER.PERIOD})>0 and max(/%[1]s/%[3]s,{$FEDMSG.NOCONSUMER.PERIOD})=0 and last(/%[1]s/%[3]s,#1:now-{$FEDMSG.NOCONSUMER.PERIOD})=0",
		f.name, k(noConsumers[0]), k(noConsumers[1])) + fresh(f, noConsumers[0]),
		"{#SERVICE} {#CONSUMER}: messages wait and no consumer has been attached for {$FEDMSG.NOCONSUMER.PERIOD}", "AVERAGE", ""})
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
		y.kv(7, "uuid", f.uuid("graph "+g.name))
		y.kv(7, "name", "fedmsg {#SERVICE} {#CONSUMER}: "+g.name)
		y.line(7, "graph_items:")
		for i, kind := range g.kinds {
			y.item(8)
			if i > 0 {
				y.kv(9, "sortorder", fmt.Sprint(i))
			}
			y.kv(9, "color", []string{"1A7C11", "2774A4", "F63100", "A54F10", "FC6EA3"}[i])
			y.line(9, "item:")
			y.kv(10, "host", f.name)
			y.kv(10, "key", k(kind))
		}
	}
}

// PrintTemplate writes the template the flags choose: the agent's with
// --zabbix-listen, else the trapper's.
func (c *Config) PrintTemplate(w io.Writer) error {
	if c.Listen != "" {
		return AgentTemplate(w)
	}
	return Template(w)
}
