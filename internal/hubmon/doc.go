// Package hubmon reads the monitoring socket of a fedmsg / moksha hub: it
// keeps one ZeroMQ subscription per endpoint alive, stamps every message with
// its arrival time and decodes it into a Snapshot.
//
// A hub publishes one JSON object every few seconds on a PUB socket; the
// format is documented on Decode and in the project README.
package hubmon
