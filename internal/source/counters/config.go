package counters

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/httppoll"
)

// Config is what the command line says of the services to poll.
type Config struct {
	// URLs are [SERVICE=]URL; SERVICE defaults to counters-HOST_PORT.
	URLs []string
	// Order is the stages in order, comma-separated, or empty.
	Order    string
	Interval time.Duration
}

// Register registers the flags that fill c on fs: the counters source's
// own.
func (c *Config) Register(fs *flag.FlagSet) {
	fs.Func("counters", "poll a service's cumulative stage counters, `[SERVICE=]URL` answering\na JSON object such as {\"Uploaded\": 120, \"Staged\": 118}; the queues\nbetween stages are service SERVICE (default counters-HOST_PORT); repeatable", func(s string) error {
		c.URLs = append(c.URLs, s)
		return nil
	})
	fs.StringVar(&c.Order, "counters-order", "", "the stages in order, `A,B,...` (default: the order of the answer's keys)")
	fs.DurationVar(&c.Interval, "counters-interval", 10*time.Second, "how often to poll the counters")
}

// Sources returns a Source per URL, or why the configuration is not one.
func (c Config) Sources(log *slog.Logger) ([]*Source, error) {
	if len(c.URLs) == 0 {
		return nil, nil
	}
	if c.Interval < 100*time.Millisecond {
		return nil, errors.New("--counters-interval must be at least 100ms")
	}
	var order []string
	if c.Order != "" {
		order = strings.Split(c.Order, ",")
	}
	var out []*Source
	seen := map[string]bool{}
	for _, spec := range c.URLs {
		name, raw, u, ok := model.NamedURL(spec, "")
		if !ok {
			return nil, fmt.Errorf("--counters %s: want [SERVICE=]http(s)://HOST:PORT/PATH", httppoll.Redact(raw))
		}
		if name == "" {
			name = model.ServiceWord("counters-", strings.ReplaceAll(u.Host, ":", "_"), false)
		}
		if err := model.CheckService(name); err != nil {
			return nil, fmt.Errorf("--counters %s: %w", httppoll.Redact(raw), err)
		}
		if seen[name] {
			return nil, fmt.Errorf("--counters: two services named %s: name them apart with SERVICE=", name)
		}
		seen[name] = true
		out = append(out, &Source{Service: name, URL: raw, Order: order, Interval: c.Interval, Logger: log})
	}
	return out, nil
}
