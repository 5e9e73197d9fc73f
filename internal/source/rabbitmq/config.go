package rabbitmq

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/httppoll"
)

// Config is what the command line says of the brokers to poll.
type Config struct {
	// URLs are [NAME=]URL of the management APIs.
	URLs []string
	// PromURLs are [NAME=]URL of nodes' Prometheus listeners; the nodes
	// of one NAME are one cluster.
	PromURLs []string
	// AuthFile holds USER:PASSWORD on its first line; CAFile the CA
	// certificates for https.
	AuthFile, CAFile string
	VHost            string
	// Queues is a regular expression selecting queues by name.
	Queues   string
	Exclude  string
	Interval time.Duration
	// Timeout bounds each poll (not a flag: a check's); default
	// Interval / 2.
	Timeout time.Duration
	// MaxQueues caps the queues watched per broker.
	MaxQueues int
}

// Register registers the flags that fill c on fs: the RabbitMQ source's
// own.
func (c *Config) Register(fs *flag.FlagSet) {
	fs.Func("rabbitmq", "poll a RabbitMQ broker's management API, `[NAME=]URL` such as\nhttp://127.0.0.1:15672, repeatable; each vhost is service NAME-VHOST\n(NAME defaults to "+DefaultName+")", func(s string) error {
		c.URLs = append(c.URLs, s)
		return nil
	})
	fs.Func("rabbitmq-prometheus", "read a RabbitMQ node's Prometheus listener (rabbitmq_prometheus) instead,\n`[NAME=]URL` such as http://127.0.0.1:15692, repeatable: the URLs of one\nNAME are the nodes of one cluster, merged (NAME defaults to "+DefaultName+")", func(s string) error {
		c.PromURLs = append(c.PromURLs, s)
		return nil
	})
	fs.StringVar(&c.AuthFile, "rabbitmq-auth-file", "", "`FILE` whose first line is USER:PASSWORD for the management API\n(rather than in the URL, which ps and collectd's configuration show)")
	fs.StringVar(&c.VHost, "rabbitmq-vhost", "", "poll only this `VHOST`")
	fs.StringVar(&c.Queues, "rabbitmq-queues", "", "poll only the queues whose name matches this `REGEXP`")
	fs.StringVar(&c.Exclude, "rabbitmq-queues-exclude", "", "leave out the queues whose name matches this `REGEXP` (RE2 has no negative\nlook-ahead: ephemeral or per-user queues, amq.gen-.*): they are not kept nor sent")
	fs.StringVar(&c.CAFile, "rabbitmq-ca-file", "", "trust the CA certificates in `FILE` for https (default: the system's)")
	fs.DurationVar(&c.Interval, "rabbitmq-interval", 10*time.Second, "how often to poll each broker")
	fs.IntVar(&c.MaxQueues, "rabbitmq-max-queues", DefaultMaxQueues, "watch at most `N` queues per broker (selected ones, in the answer's order);\nthe rest are counted as skipped entries and logged once")
}

// Sources returns a Source per URL, or why the configuration is not one.
func (c Config) Sources(log *slog.Logger) ([]*Source, error) {
	if len(c.URLs)+len(c.PromURLs) == 0 {
		return nil, nil
	}
	if c.Interval < time.Second {
		return nil, errors.New("--rabbitmq-interval must be at least 1s")
	}
	if c.MaxQueues < 0 {
		return nil, errors.New("--rabbitmq-max-queues must not be negative")
	}
	var re *regexp.Regexp
	if c.Queues != "" {
		var err error
		if re, err = regexp.Compile(c.Queues); err != nil {
			return nil, fmt.Errorf("--rabbitmq-queues: %w", err)
		}
	}
	var exclude *regexp.Regexp
	if c.Exclude != "" {
		var err error
		if exclude, err = regexp.Compile(c.Exclude); err != nil {
			return nil, fmt.Errorf("--rabbitmq-queues-exclude: %w", err)
		}
	}
	var user, pass string
	if c.AuthFile != "" {
		data, err := os.ReadFile(c.AuthFile)
		if err != nil {
			return nil, fmt.Errorf("--rabbitmq-auth-file: %w", err)
		}
		if fi, err := os.Stat(c.AuthFile); err == nil && fi.Mode().Perm()&0o004 != 0 && log != nil {
			log.Warn("the auth file is readable by every user of this host: chmod o-r it", "path", c.AuthFile, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()))
		}
		line, _, _ := strings.Cut(string(data), "\n")
		var ok bool
		if user, pass, ok = strings.Cut(strings.TrimSpace(line), ":"); !ok || user == "" {
			return nil, errors.New("--rabbitmq-auth-file: the first line is not USER:PASSWORD")
		}
	}
	client := &http.Client{}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("--rabbitmq-ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("--rabbitmq-ca-file: no PEM certificate in it")
		}
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	}
	var out []*Source
	names := map[string]bool{}
	clusters := map[string]*Source{}
	source := func(name string) *Source {
		names[name] = true
		s := &Source{Name: name, VHost: c.VHost, Queues: re, Exclude: exclude, Interval: c.Interval, Timeout: c.Timeout, Client: client, Logger: log, MaxQueues: c.MaxQueues}
		out = append(out, s)
		return s
	}
	for _, spec := range c.URLs {
		name, raw, err := namedURL("--rabbitmq", spec)
		if err != nil {
			return nil, err
		}
		if names[name] {
			return nil, fmt.Errorf("--rabbitmq: two brokers named %s: name them apart with NAME=", name)
		}
		s := source(name)
		s.URL, s.User, s.Password = raw, user, pass
	}
	for _, spec := range c.PromURLs {
		name, raw, err := namedURL("--rabbitmq-prometheus", spec)
		if err != nil {
			return nil, err
		}
		switch s := clusters[name]; {
		case s != nil && slices.Contains(s.Nodes, raw):
			return nil, fmt.Errorf("--rabbitmq-prometheus: %s twice", httppoll.Redact(raw))
		case s != nil:
			s.Nodes = append(s.Nodes, raw) // another node of the cluster
		case names[name]:
			return nil, fmt.Errorf("--rabbitmq-prometheus: %s also names a --rabbitmq broker: name them apart with NAME=", name)
		default:
			clusters[name] = source(name)
			clusters[name].Nodes = []string{raw}
		}
	}
	return out, nil
}

// namedURL reads a flag's [NAME=]URL: the service name (DefaultName
// when none) and the URL, or why it is not one.
func namedURL(flag, spec string) (name, raw string, err error) {
	name, raw, _, ok := model.NamedURL(spec, DefaultName)
	if !ok {
		return "", "", fmt.Errorf("%s %s: want [NAME=]http(s)://HOST:PORT", flag, httppoll.Redact(raw))
	}
	if err := model.CheckService(name); err != nil {
		return "", "", fmt.Errorf("%s NAME: %w", flag, err)
	}
	return name, raw, nil
}
