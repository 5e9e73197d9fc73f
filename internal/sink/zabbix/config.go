package zabbix

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

// DefaultPort is the Zabbix server's trapper port.
const DefaultPort = "10051"

// Usage is the head of the zabbix command's help, before its flags.
const Usage = "Usage: fedmsg-collectd zabbix --zabbix-server HOST[:PORT] [--zabbix-host NAME] [flags]\n" +
	"       fedmsg-collectd zabbix --zabbix-listen ADDRESS [flags]\n\n" +
	"Watches the hubs, brokers and counters services as run does, and either\n" +
	"pushes their values to a Zabbix server over its sender protocol, to the\n" +
	"trapper items of the template that --template prints, or serves them on\n" +
	"loopback to the host's Zabbix agent, whose connection (PSK included)\n" +
	"carries them to the items of the template that --template --zabbix-listen\n" +
	"prints. Import the template, link it to the host.\n"

// Config is what the zabbix command's own flags say.
type Config struct {
	Server, Host string
	// Listen, in the agent mode, is where the document is served.
	Listen string
	Buffer int
	// Heartbeat is how long a value that has not changed waits to be
	// pushed again; 0 pushes every value.
	Heartbeat time.Duration
	// Detail is how often a consumer's figures that no trigger reads are
	// pushed; 0 pushes them at every snapshot.
	Detail time.Duration
	// AgentConfigs are the agent's configuration files that name the
	// host when Host is not given (nil: Zabbix agent's and agent 2's in
	// /etc/zabbix).
	AgentConfigs []string
	// TLSConnect is "unencrypted" or "cert", as Zabbix's agents and
	// zabbix_sender say it; with cert, the CA, certificate and key files,
	// and the server certificate's subject when it is to be checked.
	TLSConnect                         string
	CAFile, CertFile, KeyFile, Subject string
	// Template asks for the template to be printed instead.
	Template bool
}

// Register adds the flags to fs.
func (c *Config) Register(fs *flag.FlagSet) {
	fs.StringVar(&c.Server, "zabbix-server", "", "the Zabbix server or proxy to push to, `HOST[:PORT]` (port "+DefaultPort+" by default)")
	fs.StringVar(&c.Listen, "zabbix-listen", "", "serve the values on `ADDRESS` to the host's Zabbix agent (the agent\ntemplate's {$FEDMSG.AGENT.URL}, http://"+DefaultListen+"/ by default) instead\nof pushing them")
	fs.StringVar(&c.Host, "zabbix-host", "", "the `NAME` of the host in Zabbix that has the template linked (default the\nHostname= of this machine's Zabbix agent's configuration, else its fully\nqualified name)")
	fs.DurationVar(&c.Heartbeat, "zabbix-heartbeat", DefaultHeartbeat, "push a value that has not changed since it was pushed only once this\n`DURATION` has passed since (0: every value); keep it under the template's\nshortest period ({$FEDMSG.NODATA}, {$FEDMSG.NOCONSUMER.PERIOD}: 5m)")
	fs.DurationVar(&c.Detail, "zabbix-detail", DefaultDetail, "push a consumer's figures that no trigger reads (rates, percentiles, counts\nin and out...) at most every `DURATION`: the latest, the counts summed (0: at\nevery snapshot); those a trigger reads go every --interval")
	fs.IntVar(&c.Buffer, "zabbix-buffer", DefaultBuffer, "values kept, `N` at most, while the server cannot take them; the oldest\nare dropped past that, and counted")
	fs.StringVar(&c.TLSConnect, "zabbix-tls-connect", "unencrypted", "how to connect to the server: unencrypted, or cert (TLS with a certificate,\nthe host's TLSAccept=cert); PSK is not supported")
	fs.StringVar(&c.CAFile, "zabbix-tls-ca-file", "", "with cert: the `FILE` of the CA certificates that sign the server's")
	fs.StringVar(&c.CertFile, "zabbix-tls-cert-file", "", "with cert: this host's certificate `FILE`")
	fs.StringVar(&c.KeyFile, "zabbix-tls-key-file", "", "with cert: its private key `FILE`")
	fs.StringVar(&c.Subject, "zabbix-tls-server-cert-subject", "", "with cert: the server certificate's subject that is required, as Zabbix\nwrites it (CN=zabbix,O=Example); any signed by the CA when not set")
	fs.BoolVar(&c.Template, "template", false, "print the Zabbix 6.0 template (YAML) of the items pushed, and exit; with\n--zabbix-listen, the agent template")
}

// Check validates the flags; hostname gives the default host name.
func (c *Config) Check(hostname func() (string, error)) error {
	if c.Template {
		return nil
	}
	if c.Listen != "" {
		return c.checkListen()
	}
	if c.Server == "" {
		return errors.New("--zabbix-server or --zabbix-listen is required")
	}
	if _, _, err := net.SplitHostPort(c.Server); err != nil {
		c.Server = net.JoinHostPort(c.Server, DefaultPort)
	}
	if _, port, err := net.SplitHostPort(c.Server); err != nil || port == "" {
		return fmt.Errorf("--zabbix-server %q: want HOST[:PORT]", c.Server)
	}
	if c.Host == "" {
		files := c.AgentConfigs
		if files == nil {
			files = agentConfigs
		}
		c.Host = agentHostname(files)
	}
	if c.Host == "" {
		h, err := hostname()
		if err != nil {
			return fmt.Errorf("--zabbix-host not given, and no host name: %w", err)
		}
		c.Host = fqdn(h)
	}
	if c.Heartbeat < 0 {
		return errors.New("--zabbix-heartbeat must not be negative")
	}
	if c.Detail < 0 {
		return errors.New("--zabbix-detail must not be negative")
	}
	if c.Buffer < 1 {
		return errors.New("--zabbix-buffer must be at least 1")
	}
	switch c.TLSConnect {
	case "unencrypted":
		if c.CAFile != "" || c.CertFile != "" || c.KeyFile != "" {
			return errors.New("--zabbix-tls-*-file need --zabbix-tls-connect cert")
		}
	case "cert":
		if c.CAFile == "" || c.CertFile == "" || c.KeyFile == "" {
			return errors.New("--zabbix-tls-connect cert needs --zabbix-tls-ca-file, --zabbix-tls-cert-file and --zabbix-tls-key-file")
		}
	case "psk":
		return errors.New("--zabbix-tls-connect psk is not supported: Go's TLS has no pre-shared keys; use cert")
	default:
		return fmt.Errorf("--zabbix-tls-connect %q: want unencrypted or cert", c.TLSConnect)
	}
	return nil
}

// checkListen validates the agent mode's flags: none of the push's.
func (c *Config) checkListen() error {
	if c.Server != "" {
		return errors.New("--zabbix-server and --zabbix-listen: push, or serve to the agent, not both")
	}
	if c.TLSConnect != "unencrypted" || c.CAFile != "" || c.CertFile != "" || c.KeyFile != "" {
		return errors.New("--zabbix-tls-* with --zabbix-listen: the agent's own connection carries the values, with its TLS (PSK or certificates)")
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
		return fmt.Errorf("--zabbix-listen %q: want HOST:PORT", c.Listen)
	}
	return nil
}

// TLSConfig returns the client's TLS configuration, or nil for
// unencrypted. The server's certificate must chain to the CA; its name is
// not checked against the address (Zabbix's certificates name the server,
// not its address), but its subject is when Subject is set.
func (c *Config) TLSConfig() (*tls.Config, error) {
	if c.TLSConnect != "cert" {
		return nil, nil
	}
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("--zabbix-tls-ca-file: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--zabbix-tls-ca-file %s: no PEM certificate in it", c.CAFile)
	}
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("--zabbix-tls-cert-file, --zabbix-tls-key-file: %w", err)
	}
	subject := c.Subject
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		// The chain is checked below, without the host name.
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("the server sent no certificate")
			}
			certs := make([]*x509.Certificate, len(raw))
			for i, r := range raw {
				c, err := x509.ParseCertificate(r)
				if err != nil {
					return err
				}
				certs[i] = c
			}
			inter := x509.NewCertPool()
			for _, c := range certs[1:] {
				inter.AddCert(c)
			}
			if _, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
				return err
			}
			if subject != "" && certs[0].Subject.String() != subject {
				return fmt.Errorf("the server certificate's subject is %q, not %q", certs[0].Subject.String(), subject)
			}
			return nil
		},
	}, nil
}
