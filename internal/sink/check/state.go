package check

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// NRPE runs a check as a fresh process every minute or so, and a check's
// own two snapshots 5 s apart cannot tell how old the oldest message is,
// how long a stall has lasted, or the consumers' capacity. So a check
// keeps, in a small file per target in a directory of its user's own, the
// snapshots it took of the consumers it checks and what its source needs
// to count on from its last poll (a broker's totals), and the next run
// takes them in before its own: its analytics then run over every run's
// snapshots, as run's do over a source's. Reading a running run or
// exporter instead would tie a check to another daemon, which a Nagios
// host need not have. The file is written whole to a temporary name and
// renamed, holds at most maxHistory snapshots, and one over maxStateBytes,
// not JSON, or not of this target is ignored (and replaced).

// maxHistory is how many snapshots a state file keeps: at a run a minute,
// two snapshots each, the last 24 minutes.
const maxHistory = 48

// maxStateBytes bounds a state file.
const maxStateBytes = 1 << 20

// stateFormat numbers the file's format.
const stateFormat = 1

// DefaultStateDir is where a check keeps its history unless --state-dir
// says: in /var/tmp (kept across reboots), a directory per user.
func DefaultStateDir() string {
	return filepath.Join("/var/tmp", fmt.Sprintf("fedmsg-collectd-check-%d", os.Getuid()))
}

// Resumable is a source that can take up its counts from a check's run
// before: a broker, a service's counters.
type Resumable interface {
	SaveState(queues []string) (json.RawMessage, error)
	ResumeState(json.RawMessage) error
}

// stateFile is what a state file holds.
type stateFile struct {
	Format   int             `json:"format"`
	Key      string          `json:"key"`
	Source   json.RawMessage `json:"source,omitempty"`
	Messages []savedMessage  `json:"messages"`
}

// savedMessage is a snapshot as a check keeps it: the checked consumers,
// their processing times as a count and a sum (what the analytics take
// of the times before the latest snapshot).
type savedMessage struct {
	Service   string          `json:"service"`
	Addr      string          `json:"addr"`
	Arrival   time.Time       `json:"arrival"`
	Period    time.Duration   `json:"period"`
	Session   int64           `json:"session"`
	Consumers []savedConsumer `json:"consumers"`
}

type savedConsumer struct {
	Name                         string
	Initialized                  bool
	Exceptions, Backlog, In, Out model.Opt
	Workers, InService           model.Opt
	Times                        int
	TimesSum                     float64
}

// History is a check's state file for one target: what it loaded, and
// where it goes.
type History struct {
	path, key string
	consumers []string
	loaded    stateFile
	// Note says where the history is kept, or why not, for what the
	// check says of a figure not known yet.
	Note string
}

// OpenHistory opens the history of the check of consumers of service at
// endpoint in dir; "" keeps none. A directory that is not the user's own
// (mode 0700) is not used: the check runs without history, and says why.
func OpenHistory(dir, endpoint, service string, consumers []string) *History {
	h := &History{consumers: slices.Sorted(slices.Values(consumers))}
	if dir == "" {
		h.Note = " (no history kept: --state-dir is empty)"
		return h
	}
	if slices.Contains(consumers, All) || len(consumers) > 100 {
		h.Note = " (no history is kept for every consumer: name them)"
		return h
	}
	if err := ownDir(dir); err != nil {
		h.Note = fmt.Sprintf(" (no history kept: %v)", err)
		return h
	}
	sum := sha256.Sum256([]byte(endpoint + "\x00" + service + "\x00" + strings.Join(h.consumers, "\x00")))
	h.key = hex.EncodeToString(sum[:16])
	h.path = filepath.Join(dir, h.key+".json")
	h.Note = " (history kept in " + dir + " builds over runs)"
	h.loaded = h.read()
	return h
}

// ownDir makes dir if it is not there, and checks it is a directory of
// this user's alone: another user could otherwise feed the check.
func ownDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok || int(st.Uid) != os.Getuid() || fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s is not a directory of this user's alone (mode 0700)", dir)
	}
	return nil
}

// read loads the state file, or nothing if it is not a sound one of this
// target.
func (h *History) read() stateFile {
	f, err := os.OpenFile(h.path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return stateFile{}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxStateBytes+1))
	var st stateFile
	if err != nil || len(data) > maxStateBytes || json.Unmarshal(data, &st) != nil || st.Format != stateFormat || st.Key != h.key ||
		len(st.Messages) > maxHistory {
		return stateFile{}
	}
	return st
}

// Keeper is a source that must be told, before it runs, to keep what
// its SaveState will need (a broker read through its Prometheus
// listeners: each series' text).
type Keeper interface{ KeepState() }

// Resume gives src its saved counts, if it takes them.
func (h *History) Resume(src any) {
	if k, ok := src.(Keeper); ok {
		k.KeepState()
	}
	if r, ok := src.(Resumable); ok && len(h.loaded.Source) > 0 {
		if r.ResumeState(h.loaded.Source) != nil {
			h.loaded.Source = nil
		}
	}
}

// Messages are the snapshots kept, oldest first, as messages to take in.
func (h *History) Messages() []model.Message {
	var out []model.Message
	for _, m := range h.loaded.Messages {
		s := model.Snapshot{Arrival: m.Arrival, Period: m.Period, Session: m.Session}
		for _, c := range m.Consumers {
			mc := model.Consumer{Name: c.Name, Initialized: c.Initialized, Exceptions: c.Exceptions, Backlog: c.Backlog,
				HeadcountIn: c.In, HeadcountOut: c.Out, Workers: c.Workers, InService: c.InService}
			if c.Times > 0 && c.Times <= model.MaxTimes && c.TimesSum >= 0 {
				mc.Times, mc.HasTimes = slices.Repeat([]float64{c.TimesSum / float64(c.Times)}, c.Times), true
			}
			s.Consumers = append(s.Consumers, mc)
		}
		out = append(out, model.Message{Endpoint: model.Endpoint{Service: m.Service, Addr: m.Addr}, Snapshot: &s, Arrival: m.Arrival, Period: m.Period, Session: m.Session})
	}
	return out
}

// Save writes the history: the snapshots kept and those taken (of
// service), the newest maxHistory, and src's counts if it gives them.
func (h *History) Save(src any, service string, taken []model.Message) error {
	if h.path == "" {
		return nil
	}
	st := stateFile{Format: stateFormat, Key: h.key, Messages: h.loaded.Messages}
	for _, m := range taken {
		if m.Snapshot == nil || m.Endpoint.Service != service {
			continue
		}
		sm := savedMessage{Service: service, Addr: m.Endpoint.Addr, Arrival: m.Arrival, Period: m.Period, Session: m.Session}
		for _, c := range m.Snapshot.Consumers {
			if !slices.Contains(h.consumers, c.Name) {
				continue
			}
			sc := savedConsumer{Name: c.Name, Initialized: c.Initialized, Exceptions: c.Exceptions, Backlog: c.Backlog,
				In: c.HeadcountIn, Out: c.HeadcountOut, Workers: c.Workers, InService: c.InService, Times: len(c.Times)}
			for _, d := range c.Times {
				sc.TimesSum += d
			}
			sm.Consumers = append(sm.Consumers, sc)
		}
		st.Messages = append(st.Messages, sm)
	}
	if n := len(st.Messages); n > maxHistory {
		st.Messages = st.Messages[n-maxHistory:]
	}
	if r, ok := src.(Resumable); ok {
		st.Source, _ = r.SaveState(h.consumers)
	}
	data, err := json.Marshal(st)
	if err == nil && len(data) > maxStateBytes && st.Source != nil {
		// The source's counts are what is large (a broker's series):
		// the history is kept without them.
		st.Source = nil
		data, err = json.Marshal(st)
	}
	if err != nil {
		return err
	}
	if len(data) > maxStateBytes {
		return errors.New("the history is over its size limit")
	}
	tmp, err := os.CreateTemp(filepath.Dir(h.path), ".state-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), h.path)
}
