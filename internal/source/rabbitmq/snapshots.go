package rabbitmq

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/httppoll"
)

// vhost is what a poll makes of one vhost's queues.
type vhost struct {
	snap   model.Snapshot
	totals map[string]totals
	sig    []float64
	// withheld counts its queues without statistics.
	withheld int
}

// snapshots turns a poll's queues into one message per vhost, with the
// deltas of the counters since the previous snapshot. A counter that went
// backwards was reset (a broker restart): its delta is what it counted
// since. A field negative or not finite is left out of that queue, and
// counted; a queue without messages_ready (a queue just made) is left out.
//
// The broker refreshes its statistics every collect_statistics_interval
// (5 s by default), each kind of figure at its own moment in it. A poll
// makes a new snapshot of a vhost when its figures changed since the last
// snapshot and at least MinSpacing has passed, or when the last is older
// than staleAfter: so however often the broker is polled, the counters'
// deltas span the broker's whole refresh and the rates come out right.
func (s *Source) snapshots(a answer, at time.Time) []model.Message {
	byVHost := map[string]*vhost{}
	var names []string
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range a.queues {
		v := byVHost[q.VHost]
		if v == nil {
			v = &vhost{totals: map[string]totals{}}
			byVHost[q.VHost] = v
			names = append(names, q.VHost)
		}
		s.addQueue(v, q)
	}
	sort.Strings(names)
	s.forgetVHosts(byVHost)
	out := make([]model.Message, 0, len(names))
	for _, name := range names {
		v := byVHost[name]
		w := s.watch(name)
		last := s.last[name]
		since := at.Sub(last.at)
		// Half a poll's margin: polled every staleAfter, a poll whose
		// timer ran a little early still makes its snapshot.
		if !last.at.IsZero() && !last.resumed && since+s.Interval/2 < staleAfter &&
			(slices.Equal(v.sig, last.sig) || since < MinSpacing) {
			w.Unchanged++
			continue // the broker's statistics are as at the last snapshot
		}
		// A vhost's snapshots come at most every MinSpacing, however often
		// the broker is polled: its period, from the first, is no shorter,
		// so that a broker polled every second is not taken for lost
		// before its second snapshot.
		period := max(s.Interval, MinSpacing)
		if !last.at.IsZero() {
			period = max(since, period)
		}
		s.last[name] = delivered{at: at, sig: v.sig}
		s.prev[name] = v.totals
		out = append(out, model.Message{Endpoint: w.Endpoint, Snapshot: &v.snap, Arrival: at, Period: period, Session: 1})
	}
	return out
}

// addQueue adds a queue of the answer to its vhost's snapshot.
func (s *Source) addQueue(v *vhost, q queue) {
	// A queue without statistics (just made, or a broker that withholds
	// them) has its lengths now only: no counters.
	withheld := q.Ready == nil
	if withheld {
		if q.live == nil || q.live.Ready == nil {
			return
		}
		q.Ready, q.Unacked = q.live.Ready, q.live.Unacked
	}
	c := model.Consumer{Name: q.Name, Initialized: true, Type: queueType(q.Type)}
	if q.live != nil && c.Type == "" {
		c.Type = queueType(q.live.Type)
	}
	bad := 0
	opt := func(p *float64) model.Opt {
		switch {
		case p == nil:
			return model.Opt{}
		case !isCount(p):
			bad++
			return model.Opt{}
		}
		return model.Some(*p)
	}
	c.Backlog, c.InService, c.Workers = opt(q.Ready), opt(q.Unacked), opt(q.Consumers)
	if !c.Backlog.Valid {
		v.snap.Skipped++
		if v.snap.SkipErr == nil {
			v.snap.SkipErr = fmt.Errorf("queue %.80q: messages_ready is not a count", q.Name)
		}
		return
	}
	// The lengths as the statistics have them tell when those changed;
	// those of the request of lengths now are the ones reported.
	statsReady, statsUnacked := c.Backlog.V, c.InService.V
	if q.live != nil && isCount(q.live.Ready) {
		c.Backlog = model.Some(*q.live.Ready)
	}
	if q.live != nil && isCount(q.live.Unacked) {
		c.InService = model.Some(*q.live.Unacked)
	}
	var now totals
	if !withheld {
		// A queue that never had traffic has no message_stats: 0.
		pub, del := opt(q.Stats.Publish), opt(q.Stats.Deliver)
		now = totals{publish: pub.V, deliver: del.V}
		v.totals[q.Name] = now
		if before, ok := s.prev[q.VHost][q.Name]; ok {
			c.HeadcountIn = model.Some(httppoll.Delta(now.publish, before.publish))
			c.HeadcountOut = model.Some(httppoll.Delta(now.deliver, before.deliver))
		}
	}
	if bad > 0 {
		v.snap.Skipped += bad
		if v.snap.SkipErr == nil {
			v.snap.SkipErr = fmt.Errorf("queue %.80q: fields negative or over 2^53", q.Name)
		}
	}
	if withheld {
		v.withheld++
	}
	v.sig = append(v.sig, statsReady, statsUnacked, c.Workers.V, now.publish, now.deliver)
	v.snap.Consumers = append(v.snap.Consumers, c)
}

// watch returns the watched service of a vhost, watching it if new.
func (s *Source) watch(name string) *model.Watched {
	sv := s.service(name)
	w := s.watched[sv]
	if w == nil {
		w = &model.Watched{Endpoint: model.Endpoint{Service: sv, Addr: s.Endpoint() + "#" + name}, Polled: true, Failed: s.broker.Failed}
		s.watched[sv] = w
		s.order = append(s.order, sv)
		s.vhosts[name] = 0
	}
	w.Sessions = 1
	return w
}

// forgetVHosts counts the polls each watched vhost has been absent from,
// and forgets one (its service, counters and state) after forgetAfter.
func (s *Source) forgetVHosts(seen map[string]*vhost) {
	for name := range s.vhosts {
		if seen[name] != nil {
			s.vhosts[name] = 0
			continue
		}
		if s.vhosts[name]++; s.vhosts[name] < forgetAfter {
			continue
		}
		sv := s.service(name)
		delete(s.vhosts, name)
		delete(s.watched, sv)
		delete(s.last, name)
		delete(s.prev, name)
		s.order = slices.DeleteFunc(s.order, func(o string) bool { return o == sv })
	}
}

// isCount says whether p is a count taken: present, not negative, at most
// maxCount.
func isCount(p *float64) bool {
	return p != nil && *p >= 0 && *p <= maxCount && !math.IsNaN(*p)
}

// maxCount bounds the counts taken: above 2^53 a float64 no longer
// counts by ones, and no broker counts so far.
const maxCount = 1 << 53

// forgetAfter is how many successive answered polls a vhost (all its
// selected queues) must be absent from to be forgotten: a vhost deleted,
// or a broker restarting that lists no queues yet, shows for one.
const forgetAfter = 2

// MinSpacing is the least time between two snapshots of a vhost whose
// figures changed: just under RabbitMQ's default
// collect_statistics_interval (5 s).
const MinSpacing = 4500 * time.Millisecond

// staleAfter is how long a vhost whose figures do not change is left
// without a snapshot: twice the broker's default statistics interval.
const staleAfter = 10 * time.Second

// delivered is a vhost's last snapshot: when, and its figures.
type delivered struct {
	at  time.Time
	sig []float64
	// resumed marks the last snapshot of a run before (ResumeState): the
	// first of this run is not held back for it.
	resumed bool
}

// withheldAfter is how long answers without statistics must last to be a
// broker that withholds them, not queues just made (a queue's first
// statistics come within the broker's 5-s interval).
const withheldAfter = 15 * time.Second

// withheldFor returns for how long the answers have had no statistics,
// this one at at included (withheld).
func (s *Source) withheldFor(withheld bool, at time.Time) time.Duration {
	if !withheld {
		s.withheldSince = time.Time{}
		return 0
	}
	if s.withheldSince.IsZero() {
		s.withheldSince = at
	}
	return at.Sub(s.withheldSince)
}
