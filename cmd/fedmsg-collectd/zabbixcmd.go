package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/cli"
	"github.com/fedora-infra/fedmsg-collectd/internal/sink/zabbix"
)

// zabbixCmd pushes the values to a Zabbix server (package zabbix).
func zabbixCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlags("zabbix", "Usage: fedmsg-collectd zabbix --zabbix-server HOST[:PORT] [--zabbix-host NAME] [flags]\n\n"+
		"Pushes the values to a Zabbix server over its sender protocol, to the\n"+
		"trapper items of the template that --template prints (import it, link it\n"+
		"to the host): watches the hubs, brokers and counters services as run does.\n")
	var (
		c  config
		zc zabbix.Config
	)
	check := sourceFlags(fs, &c)
	zc.Register(fs)
	fs.DurationVar(&c.interval, "interval", 10*time.Second, "how often liveness and the program's own values are pushed")
	if err := cli.Parse(fs, args, stdout); err != nil {
		return cli.UsageError(stderr, "zabbix", err)
	}
	err := check()
	if err == nil {
		err = zc.Check(os.Hostname)
	}
	if err == nil && c.interval < 100*time.Millisecond {
		err = fmt.Errorf("--interval must be at least 100ms")
	}
	if err != nil {
		return cli.UsageError(stderr, "zabbix", err)
	}
	if zc.Template {
		if err := zabbix.Template(stdout); err != nil {
			return cli.ExitError
		}
		return cli.ExitOK
	}
	tlsConfig, err := zc.TLSConfig()
	if err != nil {
		return cli.UsageError(stderr, "zabbix", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: c.logLevel}))
	src, err := build(&c, log)
	if err != nil {
		return cli.UsageError(stderr, "zabbix", err)
	}
	sink := zabbix.NewSink(zc.Host, zc.Buffer)
	sender := &zabbix.Sender{Server: zc.Server, TLS: tlsConfig, Interval: c.interval, Logger: log}
	done := make(chan struct{})
	sctx, stop := context.WithCancel(ctx)
	go func() { sender.Run(sctx, sink); close(done) }()
	err = servePipeline(ctx, c, src, sink, nil, log)
	stop()
	<-done
	if err != nil {
		log.Error("stopping", "err", err)
		return cli.ExitError
	}
	return cli.ExitOK
}
