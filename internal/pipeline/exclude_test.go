package pipeline

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// TestExclude: --exclude leaves the consumers it matches out of every
// batch (their values too), keeps the others in their order, and does
// not write to a polled source's snapshot.
func TestExclude(t *testing.T) {
	hs := NewHubs(time.Minute, nil)
	hs.Exclude = regexp.MustCompile(`^amq\.gen-`)
	snap := func(names ...string) *model.Snapshot {
		s := &model.Snapshot{}
		for i, n := range names {
			s.Consumers = append(s.Consumers, model.Consumer{Name: n, Initialized: true, Backlog: model.Some(float64(i + 1))})
		}
		return s
	}
	ep := model.Endpoint{Service: "rabbit"}
	for i, c := range []struct {
		names, want []string
	}{
		{[]string{"fmn", "amq.gen-1", "badges", "amq.gen-2"}, []string{"fmn", "badges"}},
		{[]string{"amq.gen-1", "fmn"}, []string{"fmn"}},
		{[]string{"fmn", "badges"}, []string{"fmn", "badges"}},
		{[]string{"amq.gen-3"}, nil},
	} {
		s := snap(c.names...)
		b, err := hs.Add(model.Message{Endpoint: ep, Snapshot: s, Arrival: t0.Add(time.Duration(i) * 5 * time.Second), Period: 5 * time.Second, Session: 1})
		if err != nil {
			t.Fatal(err)
		}
		if got := b.Subjects[:b.Consumers]; !slices.Equal(got, c.want) {
			t.Errorf("snapshot %d of %v: consumers %v, want %v", i, c.names, got, c.want)
		}
		for _, v := range b.Values {
			if v.Kind == report.Backlog && v.Subject < b.Consumers && b.Subjects[v.Subject] == "badges" && v.V != float64(slices.Index(c.names, "badges")+1) {
				t.Errorf("snapshot %d: badges' backlog %v, another's", i, v.V)
			}
		}
		if len(s.Consumers) != len(c.names) || s.Consumers[0].Name != c.names[0] {
			t.Errorf("snapshot %d: the source's snapshot was written to: %v", i, s.Consumers)
		}
	}
}
