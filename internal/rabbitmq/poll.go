package rabbitmq

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

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
	resp, err := s.Client.Do(req)
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, false, statusError(resp.StatusCode, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.MaxBody+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(body)) > s.MaxBody {
		return nil, true, fmt.Errorf("answer over %d bytes", s.MaxBody)
	}
	if err := json.Unmarshal(body, &qs); err != nil {
		return nil, false, fmt.Errorf("not the JSON list of queues expected: %w", err)
	}
	return qs, false, nil
}

// snapshots turns a poll's queues into one message per vhost, with the
// deltas of the counters since the previous poll. A counter that went
// backwards was reset (a broker restart): its delta is what it counted
// since. A field negative or not finite is left out of that queue, and
// counted; a queue without a valid messages_ready is left out.
func (s *Source) snapshots(qs []queue, at time.Time) []model.Message {
	byVHost := map[string]*model.Snapshot{}
	var vhosts []string
	seen := make(map[string]totals, len(qs))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range qs {
		if s.Queues != nil && !s.Queues.MatchString(q.Name) {
			continue
		}
		snap := byVHost[q.VHost]
		if snap == nil {
			snap = &model.Snapshot{}
			byVHost[q.VHost] = snap
			vhosts = append(vhosts, q.VHost)
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
			// No backlog, no queue: left out, and counted.
			snap.Skipped++
			if snap.SkipErr == nil {
				snap.SkipErr = fmt.Errorf("queue %q: no valid messages_ready", q.Name)
			}
			continue
		}
		// A queue that never had traffic has no message_stats: 0.
		pub, del := opt(q.Stats.Publish), opt(q.Stats.Deliver)
		key := q.VHost + "\x00" + q.Name
		now := totals{pub.V, del.V}
		seen[key] = now
		if before, ok := s.prev[key]; ok {
			c.HeadcountIn = model.Some(delta(now.publish, before.publish))
			c.HeadcountOut = model.Some(delta(now.deliver, before.deliver))
		}
		if bad > 0 {
			snap.Skipped += bad
			if snap.SkipErr == nil {
				snap.SkipErr = fmt.Errorf("queue %q: fields missing or negative", q.Name)
			}
		}
		snap.Consumers = append(snap.Consumers, c)
	}
	s.prev = seen
	sort.Strings(vhosts)
	out := make([]model.Message, 0, len(vhosts))
	for _, v := range vhosts {
		sv := s.service(v)
		w := s.watched[sv]
		if w == nil {
			w = &model.Watched{Endpoint: model.Endpoint{Service: sv, Addr: s.Endpoint() + "#" + v}, Polled: true, Failed: s.failed}
			s.watched[sv] = w
			s.order = append(s.order, sv)
		}
		w.Sessions = 1
		out = append(out, model.Message{Endpoint: w.Endpoint, Snapshot: byVHost[v], Arrival: at, Period: s.Interval, Session: 1})
	}
	return out
}

// delta is the count since the previous poll of a cumulative counter.
func delta(now, before float64) float64 {
	if now < before {
		return now // reset
	}
	return now - before
}
