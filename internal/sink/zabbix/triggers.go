package zabbix

import (
	"fmt"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// noConsumers are the kinds the no-consumers trigger reads: the backlog,
// and the consumers attached.
var noConsumers = [2]report.Kind{report.Backlog, report.Workers}

// consumerTriggers returns the trigger prototypes of the items of kind,
// each only while the item has values: a queue deleted, or a consumer
// gone from its hub, leaves its items behind for the rules' lifetime,
// and a trigger on their last values would stay in PROBLEM all that
// time; a source down has its own trigger.
func consumerTriggers(f flavour, kind report.Kind) []trigger {
	ts := kindTriggers(f, kind)
	for i := range ts {
		ts[i].expression += fresh(f, kind)
	}
	return ts
}

// fresh is the condition of a consumer's trigger on kind that its items
// have had values within {$FEDMSG.NODATA}.
func fresh(f flavour, kind report.Kind) string {
	return fmt.Sprintf(" and nodata(/%s/%s,{$FEDMSG.NODATA})=0", f.name, key(kind, "{#SERVICE}", "{#CONSUMER}"))
}

// kindTriggers returns the trigger prototypes of the items of kind, as
// they would be if the items always had values.
func kindTriggers(f flavour, kind report.Kind) []trigger {
	k := func(kind report.Kind) string { return key(kind, "{#SERVICE}", "{#CONSUMER}") }
	switch kind {
	case report.ExpectedWait:
		return []trigger{
			{"wait warn", fmt.Sprintf(`last(/%s/%s)>{$FEDMSG.WAIT.WARN:"{#CONSUMER}"}`, f.name, k(kind)),
				"{#SERVICE} {#CONSUMER}: a message arriving now waits over {$FEDMSG.WAIT.WARN:\"{#CONSUMER}\"} s", "WARNING", ""},
			{"wait crit", fmt.Sprintf(`last(/%s/%s)>{$FEDMSG.WAIT.CRIT:"{#CONSUMER}"}`, f.name, k(kind)),
				"{#SERVICE} {#CONSUMER}: a message arriving now waits over {$FEDMSG.WAIT.CRIT:\"{#CONSUMER}\"} s", "HIGH", ""},
		}
	case report.Stalled:
		return []trigger{{"stalled", fmt.Sprintf(`last(/%s/%s)>{$FEDMSG.STALL.MAX:"{#CONSUMER}"}`, f.name, k(kind)),
			"{#SERVICE} {#CONSUMER}: consumers attached take nothing while messages wait", "HIGH", ""}}
	case report.OldestAge:
		return []trigger{{"oldest", fmt.Sprintf(`last(/%s/%s)>{$FEDMSG.AGE.WARN:"{#CONSUMER}"}`, f.name, k(kind)),
			"{#SERVICE} {#CONSUMER}: the oldest message has waited over {$FEDMSG.AGE.WARN:\"{#CONSUMER}\"} s", "WARNING", ""}}
	case report.GrowthRate:
		// Every value of the period, and the last before it: grown
		// for the whole period, not since the first value.
		return []trigger{{"growing", fmt.Sprintf("min(/%[1]s/%[2]s,{$FEDMSG.GROWTH.PERIOD})>0 and last(/%[1]s/%[2]s,#1:now-{$FEDMSG.GROWTH.PERIOD})>0",
			f.name, k(kind)),
			"{#SERVICE} {#CONSUMER}: the backlog has grown for {$FEDMSG.GROWTH.PERIOD}", "WARNING", ""}}
	case report.Backlog:
		// Counts, off unless a macro sets them (check_rabbitmq_queue's).
		return []trigger{
			{"backlog warn", fmt.Sprintf(`{$FEDMSG.BACKLOG.WARN:"{#CONSUMER}"}>0 and last(/%s/%s)>{$FEDMSG.BACKLOG.WARN:"{#CONSUMER}"}`, f.name, k(kind)),
				"{#SERVICE} {#CONSUMER}: over {$FEDMSG.BACKLOG.WARN:\"{#CONSUMER}\"} messages wait", "WARNING", ""},
			{"backlog crit", fmt.Sprintf(`{$FEDMSG.BACKLOG.CRIT:"{#CONSUMER}"}>0 and last(/%s/%s)>{$FEDMSG.BACKLOG.CRIT:"{#CONSUMER}"}`, f.name, k(kind)),
				"{#SERVICE} {#CONSUMER}: over {$FEDMSG.BACKLOG.CRIT:\"{#CONSUMER}\"} messages wait", "HIGH", ""},
		}
	}
	return nil
}
