package rabbitmq

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/maphash"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/source/httppoll"
)

// Columns are all the API is asked for: a broker with thousands of queues
// answers with a few hundred bytes each instead of several kilobytes.
const Columns = "name,vhost,type,messages_ready,messages_unacknowledged,consumers," +
	"message_stats.publish,message_stats.deliver_get"

// LiveColumns are what the second request of a poll asks for, with
// disable_stats=true&enable_queue_totals=true: the broker then asks each
// queue for its lengths, so they are those of the moment of the request,
// while the statistics of the first request describe the queue as it was
// up to one statistics interval (5 s) earlier, by the queue's own timer.
const LiveColumns = "name,vhost,type,messages_ready,messages_unacknowledged"

// Request returns the poll's request of the queues' statistics:
// GET /api/queues[/VHOST]?columns=...
func (s *Source) Request(ctx context.Context) (*http.Request, error) {
	return s.request(ctx, "columns="+Columns)
}

// LiveRequest returns the poll's request of the queues' lengths as they
// are now: GET /api/queues[/VHOST]?disable_stats=true&...
func (s *Source) LiveRequest(ctx context.Context) (*http.Request, error) {
	return s.request(ctx, "disable_stats=true&enable_queue_totals=true&columns="+LiveColumns)
}

func (s *Source) request(ctx context.Context, query string) (*http.Request, error) {
	u, err := url.Parse(s.URL)
	if err != nil {
		return nil, errors.New("the broker's URL does not parse")
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/api/queues"
	u.RawPath = ""
	if s.VHost != "" {
		u.RawPath = u.Path + "/" + url.PathEscape(s.VHost)
		u.Path += "/" + s.VHost
	}
	u.RawQuery = query
	return newGet(ctx, u, s.User, s.Password, "application/json")
}

// newGet returns a GET of u, with user and password (those of u when
// user is empty) as basic authentication, never in the URL.
func newGet(ctx context.Context, u *url.URL, user, pass, accept string) (*http.Request, error) {
	if u.User != nil && user == "" {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	u.User = nil
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, errors.New("cannot make a request of the URL")
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	req.Header.Set("Accept", accept)
	return req, nil
}

// management reads a broker through its management API. It asks for the
// lengths now only when the statistics moved: a broker with 1000 queues
// spends about 60 ms of CPU answering that request (it asks every queue
// process; Debian's 3.10, measured), and most queues of most brokers are
// idle most of the time.
type management struct {
	s    *Source
	seed maphash.Seed
	// sum is a hash of the statistics at the latest poll; lengths the
	// answer of lengths now of the latest poll that asked for it (nil
	// before one).
	sum     uint64
	lengths *answer
	// totals are the overview's totals at the latest poll that asked
	// about the queues, full its answer (nil when that poll had no totals
	// to judge by), listedAt the moment of the latest list of every queue.
	totals   figures
	full     *answer
	listedAt time.Time
	// skipOverview counts the polls left that do not ask for the
	// overview, after it failed.
	skipOverview int
	// hot are the queues asked about by name between lists
	// (management_hot.go).
	hot hot
}

func newManagement(s *Source) *management {
	return &management{s: s, seed: maphash.MakeSeed()}
}

// fetch polls the API: the queues' statistics, then their lengths now,
// which replace those of the statistics. at is the moment the lengths
// describe: halfway through their request. When the statistics are as at
// the previous poll, every queue of them with statistics, nothing came,
// went or changed between the moments they describe: the lengths asked
// then are the lengths now, and at is now. oversize tells an answer over
// MaxBody.
func (m *management) fetch(ctx context.Context) (a answer, at time.Time, oversize bool, err error) {
	s := m.s
	totals, judged := m.overviewTotals(ctx)
	now := sync.OnceValue(s.Now) // the poll's moment, read once needed
	if judged && m.full != nil && totals.same(m.totals) && now().Sub(m.listedAt) < maxQuiet {
		return *m.full, now(), false, nil // management_overview.go
	}
	listed := false
	if a, err = m.askHot(ctx, totals, judged, now); err != nil {
		if a, err = s.get(ctx, s.Request); err != nil {
			return a, at, errors.Is(err, httppoll.ErrOversize), err
		}
		listed = true
	}
	defer func() {
		if err == nil {
			m.judge(a, totals, judged, listed, now)
		}
	}()
	sum, complete := m.sumOf(a)
	if m.lengths != nil && complete && sum == m.sum {
		a.setLengths(*m.lengths)
		return a, s.Now(), false, nil
	}
	start := s.Now()
	live, err := s.get(ctx, s.LiveRequest)
	at = start.Add(s.Now().Sub(start) / 2)
	if err != nil {
		return a, at, errors.Is(err, httppoll.ErrOversize), err
	}
	a.setLengths(live)
	m.sum, m.lengths = sum, &live
	return a, at, false, nil
}

// sumOf returns a hash of the statistics of a's queues, in order, and
// whether every queue has them (a queue just made, or a broker that
// withholds them, has none: its lengths are asked for at every poll).
func (m *management) sumOf(a answer) (sum uint64, complete bool) {
	var h maphash.Hash
	h.SetSeed(m.seed)
	var b [8]byte
	num := func(p *float64) {
		v := math.NaN()
		if p != nil {
			v = *p
		}
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		h.Write(b[:])
	}
	complete = true
	for _, q := range a.queues {
		complete = complete && q.Ready != nil
		h.WriteString(q.VHost)
		h.WriteByte(0)
		h.WriteString(q.Name)
		h.WriteByte(0)
		h.WriteString(q.Type)
		h.WriteByte(0)
		for _, p := range []*float64{q.Ready, q.Unacked, q.Consumers, q.Stats.Publish, q.Stats.Deliver} {
			num(p)
		}
	}
	return h.Sum64(), complete
}

// get makes one request of the API and decodes its list of queues.
func (s *Source) get(ctx context.Context, request func(context.Context) (*http.Request, error)) (a answer, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	req, err := request(ctx)
	if err != nil {
		return a, err
	}
	var keep func(string) bool
	if s.Queues != nil || s.Exclude != nil {
		keep = s.selected
	}
	err = httppoll.Get(ctx, s.Client, req, s.MaxBody, func(r io.Reader) error {
		a, err = decode(r, s.MaxQueues, keep)
		return err
	})
	return a, err
}
