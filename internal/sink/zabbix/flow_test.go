package zabbix

import (
	"testing"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// TestEveryEntryKindPushed: a value of every consumer's kind that is
// pushed goes to its item, keyed by the kind's name in the catalogue, as
// given (Zabbix makes its own rates and sums of a Delta kind's counts):
// the catalogue is all a new kind needs.
func TestEveryEntryKindPushed(t *testing.T) {
	for _, k := range report.Kinds() {
		if k.Scope() != report.Entry || !pushed(k) {
			continue
		}
		s := NewSink("h", 0)
		s.Write(report.Update{Snapshots: []report.Batch{{Service: "svc", Time: t0, Subjects: []string{"C"}, Consumers: 1,
			Values: []report.Value{{Kind: k, V: 3}}}}})
		got := ""
		for _, v := range s.queue.oldest(s.queue.len()) {
			if v.Key == key(k, "svc", "C") {
				got = v.Value
			}
		}
		if got != "3" {
			t.Errorf("kind %v: item %s = %q, want 3", k, key(k, "svc", "C"), got)
		}
	}
}
