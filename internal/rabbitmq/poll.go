package rabbitmq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/httppoll"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// Columns are all the API is asked for: a broker with thousands of queues
// answers with a few hundred bytes each instead of several kilobytes.
const Columns = "name,vhost,messages_ready,messages_unacknowledged,consumers," +
	"message_stats.publish,message_stats.deliver_get"

// queue is what the API answers per queue; pointers tell missing fields.
type queue struct {
	Name      string   `json:"name"`
	VHost     string   `json:"vhost"`
	Ready     *float64 `json:"messages_ready"`
	Unacked   *float64 `json:"messages_unacknowledged"`
	Consumers *float64 `json:"consumers"`
	Stats     struct {
		Publish *float64 `json:"publish"`
		Deliver *float64 `json:"deliver_get"`
	} `json:"message_stats"`
}

// Request returns the poll's request: GET /api/queues[/VHOST]?columns=...
func (s *Source) Request(ctx context.Context) (*http.Request, error) {
	u, err := url.Parse(s.URL)
	if err != nil {
		return nil, err
	}
	user, pass := s.User, s.Password
	if u.User != nil && user == "" {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	u.User = nil
	u.Path = strings.TrimSuffix(u.Path, "/") + "/api/queues"
	u.RawPath = ""
	if s.VHost != "" {
		u.RawPath = u.Path + "/" + url.PathEscape(s.VHost)
		u.Path += "/" + s.VHost
	}
	u.RawQuery = "columns=" + Columns
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// fetch polls the API; oversize tells an answer over MaxBody.
func (s *Source) fetch(ctx context.Context) (qs []queue, oversize bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	req, err := s.Request(ctx)
	if err != nil {
		return nil, false, err
	}
	err = httppoll.Get(ctx, s.Client, req, s.MaxBody, func(r io.Reader) error {
		if err := json.NewDecoder(r).Decode(&qs); err != nil {
			return fmt.Errorf("not the JSON list of queues expected: %w", err)
		}
		return nil
	})
	return qs, errors.Is(err, httppoll.ErrOversize), err
}

// snapshots turns a poll's queues into one message per vhost, with the
// deltas of the counters since the previous snapshot. A counter that went
// backwards was reset (a broker restart): its delta is what it counted
// since. A field negative or not finite is left out of that queue, and
// counted; a queue without messages_ready (a queue just made) is left out.
//
// The broker refreshes its statistics only every collect_statistics_interval
// (5 s by default): a poll that finds a vhost's figures all as before is
// not a new snapshot, unless the last was stale, so that the deltas span
// the time they were counted in and the rates come out right.
func (s *Source) snapshots(qs []queue, at time.Time) []model.Message {
	type vhost struct {
		snap   model.Snapshot
		totals map[string]totals
		sig    []float64
	}
	byVHost := map[string]*vhost{}
	var names []string
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range qs {
		if s.Queues != nil && !s.Queues.MatchString(q.Name) {
			continue
		}
		v := byVHost[q.VHost]
		if v == nil {
			v = &vhost{totals: map[string]totals{}}
			byVHost[q.VHost] = v
			names = append(names, q.VHost)
		}
		if q.Ready == nil {
			continue // just made: no statistics yet
		}
		c := model.Consumer{Name: q.Name, Initialized: true}
		bad := 0
		opt := func(p *float64) model.Opt {
			switch {
			case p == nil:
				return model.Opt{}
			case *p < 0 || math.IsNaN(*p) || math.IsInf(*p, 0):
				bad++
				return model.Opt{}
			}
			return model.Some(*p)
		}
		c.Backlog, c.InService, c.Workers = opt(q.Ready), opt(q.Unacked), opt(q.Consumers)
		if !c.Backlog.Valid {
			v.snap.Skipped++
			if v.snap.SkipErr == nil {
				v.snap.SkipErr = fmt.Errorf("queue %q: messages_ready is not a count", q.Name)
			}
			continue
		}
		// A queue that never had traffic has no message_stats: 0.
		pub, del := opt(q.Stats.Publish), opt(q.Stats.Deliver)
		now := totals{pub.V, del.V}
		v.totals[q.Name] = now
		if before, ok := s.prev[q.VHost][q.Name]; ok {
			c.HeadcountIn = model.Some(httppoll.Delta(now.publish, before.publish))
			c.HeadcountOut = model.Some(httppoll.Delta(now.deliver, before.deliver))
		}
		if bad > 0 {
			v.snap.Skipped += bad
			if v.snap.SkipErr == nil {
				v.snap.SkipErr = fmt.Errorf("queue %q: fields negative or not finite", q.Name)
			}
		}
		v.sig = append(v.sig, c.Backlog.V, c.InService.V, c.Workers.V, now.publish, now.deliver)
		v.snap.Consumers = append(v.snap.Consumers, c)
	}
	sort.Strings(names)
	out := make([]model.Message, 0, len(names))
	for _, name := range names {
		v := byVHost[name]
		sv := s.service(name)
		w := s.watched[sv]
		if w == nil {
			w = &model.Watched{Endpoint: model.Endpoint{Service: sv, Addr: s.Endpoint() + "#" + name}, Polled: true, Failed: s.failed}
			s.watched[sv] = w
			s.order = append(s.order, sv)
		}
		w.Sessions = 1
		last := s.last[name]
		if last.at.IsZero() == false && slices.Equal(v.sig, last.sig) && at.Sub(last.at) < staleAfter {
			continue // the broker's statistics are as at the last snapshot
		}
		period := s.Interval
		if !last.at.IsZero() {
			period = max(at.Sub(last.at), s.Interval)
		}
		s.last[name] = delivered{at, v.sig}
		s.prev[name] = v.totals
		out = append(out, model.Message{Endpoint: w.Endpoint, Snapshot: &v.snap, Arrival: at, Period: period, Session: 1})
	}
	return out
}

// staleAfter is how long a vhost whose figures do not change is left
// without a snapshot: twice the broker's default statistics interval.
const staleAfter = 10 * time.Second

// delivered is a vhost's last snapshot: when, and its figures.
type delivered struct {
	at  time.Time
	sig []float64
}
