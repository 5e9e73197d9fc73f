package rabbitmq

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestStateCarriesOver: a check's source saves its named queues' totals
// and the time of its last snapshot; the next run's source takes them up
// and its first snapshot counts the messages in and out since then, over
// the whole gap. Unnamed queues are not kept; what is not a state is
// refused.
func TestStateCarriesOver(t *testing.T) {
	b := &broker{}
	srv := httptest.NewServer(b)
	defer srv.Close()
	s := &Source{URL: srv.URL, Interval: time.Second}
	s.init()
	b.set(200, queues(100, 90))
	poll(t, s)
	saved, err := s.SaveState([]string{"fmn"})
	if err != nil || !strings.Contains(string(saved), `"fmn":[100,90]`) || strings.Contains(string(saved), "idle") {
		t.Fatalf("saved %s, %v", saved, err)
	}
	savedAt := clock

	next := &Source{URL: srv.URL, Interval: time.Second}
	if err := next.ResumeState(saved); err != nil {
		t.Fatal(err)
	}
	next.init()
	clock = clock.Add(55 * time.Second) // a minute later, with poll's spacing
	b.set(200, queues(160, 150))
	msgs, _ := poll(t, next)
	m := msgs["fedmsg_rabbitmq-pubsub"]
	fmn := m.Snapshot.Consumers[0]
	if !fmn.HeadcountIn.Valid || fmn.HeadcountIn.V != 60 || fmn.HeadcountOut.V != 60 {
		t.Errorf("first poll after the state: in %+v out %+v, want 60 and 60", fmn.HeadcountIn, fmn.HeadcountOut)
	}
	if want := m.Arrival.Sub(savedAt); m.Period != want {
		t.Errorf("period %v, want the %v since the saved snapshot", m.Period, want)
	}
	// A run right after another (two checks of one queue): its first
	// snapshot is not held back for the one saved a second before.
	saved, _ = next.SaveState([]string{"fmn"})
	soon := &Source{URL: srv.URL, Interval: time.Second}
	soon.ResumeState(saved)
	soon.init()
	clock = clock.Add(time.Second - MinSpacing) // poll adds MinSpacing
	if msgs, _ := poll(t, soon); msgs["fedmsg_rabbitmq-pubsub"].Snapshot == nil {
		t.Errorf("the first poll a second after the state gave no snapshot: %v", msgs)
	}
	for _, bad := range []string{`{"vhosts":{"/":{"queues":{"q":[-1,0]}}}}`, `[1,2]`, `{"vhosts":`} {
		if err := (&Source{}).ResumeState(json.RawMessage(bad)); err == nil {
			t.Errorf("%s taken up", bad)
		}
	}
}
