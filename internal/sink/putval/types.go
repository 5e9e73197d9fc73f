package putval

import (
	"fmt"
	"strings"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// typeNotices returns a notice for each broker service whose queue types
// (a summary of them) changed since the last one the sink notified, and
// keeps the new summaries: collectd's only word on which queues are
// quorum queues or streams, once and on change rather than per value.
func (s *Sink) typeNotices(snaps []report.Batch) []report.Notice {
	var out []report.Notice
	for _, b := range snaps {
		if len(b.Types) == 0 {
			continue
		}
		sum := typeSummary(b)
		if s.types[b.Service] == sum {
			continue
		}
		if s.types == nil || len(s.types) >= maxServices {
			s.types = map[string]string{}
		}
		s.types[b.Service] = sum
		out = append(out, report.Notice{Kind: report.Consumers, Severity: report.Okay, Time: b.Time, Service: b.Service, Message: sum})
	}
	return out
}

// typeSummary says how many queues of each type a broker service has,
// naming the quorum queues and streams first (the message is cut at
// collectd's 256 bytes): "queue types: 12 classic, 2 quorum (fmn,
// badges), 1 stream (audit)".
func typeSummary(b report.Batch) string {
	order := []string{"classic", "quorum", "stream", "unknown"}
	count := map[string]int{}
	named := map[string][]string{}
	for i, t := range b.Types {
		if t == "" {
			t = "unknown"
		}
		count[t]++
		if (t == "quorum" || t == "stream") && i < len(b.Subjects) {
			named[t] = append(named[t], b.Subjects[i])
		}
	}
	var parts []string
	for _, t := range order {
		if count[t] == 0 {
			continue
		}
		p := fmt.Sprintf("%d %s", count[t], t)
		if len(named[t]) > 0 {
			p += " (" + strings.Join(named[t], ", ") + ")"
		}
		parts = append(parts, p)
	}
	return "queue types: " + strings.Join(parts, ", ")
}
