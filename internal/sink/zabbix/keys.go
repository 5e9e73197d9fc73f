package zabbix

import (
	"strings"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// The keys of the low-level discovery rules: their values list the
// services ({#SERVICE}) and the consumers ({#SERVICE}, {#CONSUMER}).
const (
	ServicesDiscovery  = "fedmsg.services.discovery"
	ConsumersDiscovery = "fedmsg.consumers.discovery"
)

// The sink's own counters, since it started: values dropped from a full
// buffer, and values the server failed (items it does not have yet, or
// values it refused).
const (
	keyDropped = "fedmsg.zabbix.dropped"
	keyFailed  = "fedmsg.zabbix.failed"
)

// reason returns the key of a service's reason item: the program's word
// when it lost the source, or heard it again (a text, no credentials).
func reason(service string) string { return "fedmsg.hub.reason[" + quote(service) + "]" }

// pushed says whether the sink pushes the values of kind k, and under
// which scope of key: every figure of a consumer, a service's liveness
// and the program's own counters. Left out: the histogram's buckets
// (Zabbix has its own percentiles of an item's history), the old
// script's min, max and mean (the percentiles are there), and producers.
func pushed(k report.Kind) bool {
	in := k.Info()
	if in.Type == report.Bucket {
		return false
	}
	switch k {
	case report.TimeMin, report.TimeMax, report.TimeAvg, report.ProducerExceptions, report.LastRanAge, report.Frequency,
		report.Initialized:
		return false
	}
	return true
}

// key returns the key of a value of kind k: fedmsg.consumer.NAME["S","C"]
// for a consumer's, fedmsg.hub.NAME["S"] for a service's,
// fedmsg.self.NAME["S"] for the program's counters of a service and
// fedmsg.self.NAME for the process'.
func key(k report.Kind, service, consumer string) string {
	name := k.Info().Name
	switch k.Scope() {
	case report.Entry:
		return "fedmsg.consumer." + name + "[" + quote(service) + "," + quote(consumer) + "]"
	case report.Hub:
		return "fedmsg.hub." + name + "[" + quote(service) + "]"
	case report.Endpoint:
		return "fedmsg.self." + name + "[" + quote(service) + "]"
	}
	return "fedmsg.self." + name
}

// quote makes s a quoted parameter of an item key: in quotes, a quote
// escaped with a backslash, as Zabbix quotes an LLD macro's value in a
// quoted parameter of an item prototype's key.
func quote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

// unit returns Zabbix's unit for a kind's: "s" for seconds (Zabbix then
// shows 1m 30s, or 250ms), "B" for bytes.
func unit(k report.Kind) string {
	switch k.Info().Unit {
	case "seconds":
		return "s"
	case "bytes":
		return "B"
	case "messages/s":
		return "msg/s"
	case "messages":
		return "messages"
	case "workers":
		return "workers"
	}
	return ""
}

// path returns the JSONPath of a value of kind k in the agent's document
// (Document), for the items of the discovery rules' rows ({#SID}, {#CID}).
func path(k report.Kind) string {
	name := k.Info().Name
	switch k.Scope() {
	case report.Entry:
		return "$.consumer.{#CID}." + name
	case report.Hub:
		return "$.service.{#SID}." + name
	case report.Endpoint:
		return "$.self.{#SID}." + name
	}
	return "$.process." + name
}
