package main

import (
	"context"
	"flag"
	"log/slog"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/sink/zabbix"
)

// zabbixWatcher pushes the values to Zabbix, or serves them to its agent.
func zabbixWatcher() *watcher {
	return &watcher{
		head:         zabbix.Usage,
		interval:     10 * time.Second,
		intervalHelp: "how often liveness, the program's own values and a consumer's figures that\na trigger reads are pushed (the latest), and the values gathered sent",
		flags: func(fs *flag.FlagSet, c *config, io ios) func(*slog.Logger) (served, error) {
			var zc zabbix.Config
			zc.Register(fs)
			return func(log *slog.Logger) (served, error) {
				if err := zc.Check(io.hostname); err != nil {
					return served{}, err
				}
				switch {
				case zc.Template:
					return served{done: true}, zc.PrintTemplate(io.stdout)
				case zc.Listen != "":
					doc := zabbix.NewDocument()
					return served{sink: doc, around: func(ctx context.Context, pipe func(context.Context) error) error {
						return zabbix.Serve(ctx, zc.Listen, doc, log, pipe)
					}}, nil
				}
				tlsConfig, err := zc.TLSConfig()
				if err != nil {
					return served{}, err
				}
				sink := zabbix.NewSink(zc.Host, zc.Buffer, zabbix.Cadence{Alerted: c.interval, Detail: zc.Detail, Heartbeat: zc.Heartbeat})
				sender := &zabbix.Sender{Server: zc.Server, TLS: tlsConfig, Interval: c.interval, Logger: log}
				return served{sink: sink, around: func(ctx context.Context, pipe func(context.Context) error) error {
					return sender.Beside(ctx, sink, pipe)
				}}, nil
			}
		},
	}
}
