package counters

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// Config is what the command line says of the services to poll.
type Config struct {
	// URLs are [SERVICE=]URL; SERVICE defaults to counters-HOST_PORT.
	URLs []string
	// Order is the stages in order, comma-separated, or empty.
	Order    string
	Interval time.Duration
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
			return nil, fmt.Errorf("--counters %q: want [SERVICE=]http(s)://HOST:PORT/PATH", spec)
		}
		if name == "" {
			name = model.ServiceWord("counters-", strings.ReplaceAll(u.Host, ":", "_"), false)
		}
		if seen[name] {
			return nil, fmt.Errorf("--counters: two services named %s: name them apart with SERVICE=", name)
		}
		seen[name] = true
		out = append(out, &Source{Service: name, URL: raw, Order: order, Interval: c.Interval, Logger: log})
	}
	return out, nil
}
