//go:build !linux

package hubmon

import "net"

// rawReader is Linux only; elsewhere connections are read as they are.
func rawReader(net.Conn) func([]byte) (int, error) { return nil }
