// Package hubmon is the moksha source: it reads the monitoring sockets of
// fedmsg / moksha hubs. It parses and discovers endpoints, keeps one ZeroMQ
// subscription per endpoint alive (sessions, reconnection with backoff, the
// publish period), guards zmq4 from what a peer sends (the ZMTP frame size
// limit), and delivers every message raw, stamped with its arrival time:
// the only place where the clock is read for arrivals. Decoding is not its
// job (see package model).
package hubmon
