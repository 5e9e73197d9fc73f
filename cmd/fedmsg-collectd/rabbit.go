package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/counters"
	"github.com/fedora-infra/fedmsg-collectd/internal/putval"
	"github.com/fedora-infra/fedmsg-collectd/internal/rabbitmq"
)

// brokers is what the --rabbitmq and --counters flags ask for: the polled
// sources.
type brokers struct {
	counters      namesFlag
	countersOrder string
	countersEvery time.Duration
	urls          namesFlag
	authFile      string
	vhost         string
	queues        string
	caFile        string
	interval      time.Duration
}

// flags registers the --rabbitmq flags.
func (b *brokers) flags(fs *flag.FlagSet) {
	fs.Var(&b.urls, "rabbitmq", "poll a RabbitMQ broker's management API, `[NAME=]URL` such as\nhttp://127.0.0.1:15672, repeatable; each vhost is service NAME-VHOST\n(NAME defaults to rabbitmq)")
	fs.StringVar(&b.authFile, "rabbitmq-auth-file", "", "`FILE` whose first line is USER:PASSWORD for the management API\n(rather than in the URL, which ps and collectd's configuration show)")
	fs.StringVar(&b.vhost, "rabbitmq-vhost", "", "poll only this `VHOST`")
	fs.StringVar(&b.queues, "rabbitmq-queues", "", "poll only the queues whose name matches this `REGEXP`")
	fs.StringVar(&b.caFile, "rabbitmq-ca-file", "", "trust the CA certificates in `FILE` for https (default: the system's)")
	fs.DurationVar(&b.interval, "rabbitmq-interval", 10*time.Second, "how often to poll each broker")
	fs.Var(&b.counters, "counters", "poll a service's cumulative stage counters, `[SERVICE=]URL` answering\na JSON object such as {\"Uploaded\": 120, \"Staged\": 118}; the queues\nbetween stages are service SERVICE (default counters-HOST_PORT); repeatable")
	fs.StringVar(&b.countersOrder, "counters-order", "", "the stages in order, `A,B,...` (default: the order of the answer's keys)")
	fs.DurationVar(&b.countersEvery, "counters-interval", 10*time.Second, "how often to poll the counters")
}

// counterSources returns the counters pollers the flags ask for.
func (b *brokers) counterSources(log *slog.Logger) ([]*counters.Source, error) {
	if len(b.counters) == 0 {
		return nil, nil
	}
	if b.countersEvery < 100*time.Millisecond {
		return nil, errors.New("--counters-interval must be at least 100ms")
	}
	var order []string
	if b.countersOrder != "" {
		order = strings.Split(b.countersOrder, ",")
	}
	var out []*counters.Source
	seen := map[string]bool{}
	for _, spec := range b.counters {
		name, raw, u, ok := namedURL(spec, "")
		if !ok {
			return nil, fmt.Errorf("--counters %q: want [SERVICE=]http(s)://HOST:PORT/PATH", spec)
		}
		if name == "" {
			name = "counters-" + strings.Map(func(r rune) rune {
				if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
					return r
				}
				return '_'
			}, u.Host)
		}
		if err := putval.CheckService(name); err != nil {
			return nil, fmt.Errorf("--counters %q: %w", spec, err)
		}
		if seen[name] {
			return nil, fmt.Errorf("--counters: two services named %s: name them apart with SERVICE=", name)
		}
		seen[name] = true
		out = append(out, &counters.Source{Service: name, URL: raw, Order: order, Interval: b.countersEvery, Logger: log})
	}
	return out, nil
}

// sources returns the pollers the flags ask for.
func (b *brokers) sources(log *slog.Logger) ([]*rabbitmq.Source, error) {
	if len(b.urls) == 0 {
		return nil, nil
	}
	if b.interval < time.Second {
		return nil, errors.New("--rabbitmq-interval must be at least 1s")
	}
	var re *regexp.Regexp
	if b.queues != "" {
		var err error
		if re, err = regexp.Compile(b.queues); err != nil {
			return nil, fmt.Errorf("--rabbitmq-queues: %w", err)
		}
	}
	var user, pass string
	if b.authFile != "" {
		data, err := os.ReadFile(b.authFile)
		if err != nil {
			return nil, fmt.Errorf("--rabbitmq-auth-file: %w", err)
		}
		line, _, _ := strings.Cut(string(data), "\n")
		var ok bool
		if user, pass, ok = strings.Cut(strings.TrimSpace(line), ":"); !ok || user == "" {
			return nil, errors.New("--rabbitmq-auth-file: the first line is not USER:PASSWORD")
		}
	}
	client := &http.Client{}
	if b.caFile != "" {
		pem, err := os.ReadFile(b.caFile)
		if err != nil {
			return nil, fmt.Errorf("--rabbitmq-ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("--rabbitmq-ca-file: no PEM certificate in it")
		}
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	}
	var out []*rabbitmq.Source
	names := map[string]bool{}
	for _, spec := range b.urls {
		name, raw, _, ok := namedURL(spec, "rabbitmq")
		if !ok {
			return nil, fmt.Errorf("--rabbitmq %q: want [NAME=]http(s)://HOST:PORT", spec)
		}
		if names[name] {
			return nil, fmt.Errorf("--rabbitmq: two brokers named %s: name them apart with NAME=", name)
		}
		names[name] = true
		out = append(out, &rabbitmq.Source{Name: name, URL: raw, User: user, Password: pass, VHost: b.vhost,
			Queues: re, Interval: b.interval, Client: client, Logger: log})
	}
	return out, nil
}

// namedURL splits [NAME=]URL (NAME defaults to def) and reports whether
// URL is an http or https URL with a host.
func namedURL(spec, def string) (name, raw string, u *url.URL, ok bool) {
	name, raw = def, spec
	if n, rest, cut := strings.Cut(spec, "="); cut && !strings.Contains(n, "/") {
		name, raw = n, rest
	}
	u, err := url.Parse(raw)
	ok = err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
	return name, raw, u, ok
}
