module github.com/fedora-infra/fedmsg-collectd

go 1.24.0

require (
	collectd.org v0.6.0
	github.com/go-zeromq/zmq4 v0.17.0
	github.com/google/go-cmp v0.6.0
	golang.org/x/text v0.15.0
)

require (
	github.com/go-zeromq/goczmq/v4 v4.2.2 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	golang.org/x/sync v0.7.0 // indirect
	golang.org/x/sys v0.38.0 // indirect
	golang.org/x/term v0.37.0 // indirect
)
