package rabbitmq

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// Config is what the command line says of the brokers to poll.
type Config struct {
	// URLs are [NAME=]URL of the management APIs.
	URLs []string
	// AuthFile holds USER:PASSWORD on its first line; CAFile the CA
	// certificates for https.
	AuthFile, CAFile string
	VHost            string
	// Queues is a regular expression selecting queues by name.
	Queues   string
	Interval time.Duration
}

// Sources returns a Source per URL, or why the configuration is not one.
func (c Config) Sources(log *slog.Logger) ([]*Source, error) {
	if len(c.URLs) == 0 {
		return nil, nil
	}
	if c.Interval < time.Second {
		return nil, errors.New("--rabbitmq-interval must be at least 1s")
	}
	var re *regexp.Regexp
	if c.Queues != "" {
		var err error
		if re, err = regexp.Compile(c.Queues); err != nil {
			return nil, fmt.Errorf("--rabbitmq-queues: %w", err)
		}
	}
	var user, pass string
	if c.AuthFile != "" {
		data, err := os.ReadFile(c.AuthFile)
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
	for _, spec := range c.URLs {
		name, raw, _, ok := model.NamedURL(spec, "rabbitmq")
		if !ok {
			return nil, fmt.Errorf("--rabbitmq %q: want [NAME=]http(s)://HOST:PORT", spec)
		}
		if names[name] {
			return nil, fmt.Errorf("--rabbitmq: two brokers named %s: name them apart with NAME=", name)
		}
		names[name] = true
		out = append(out, &Source{Name: name, URL: raw, User: user, Password: pass, VHost: c.VHost,
			Queues: re, Interval: c.Interval, Client: client, Logger: log})
	}
	return out, nil
}
