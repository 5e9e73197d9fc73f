package hubmon

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// What zmq4 (v0.17.0) does with a peer's bytes, and what guards each:
//
//   - The greeting (64 bytes, read whole): it reads the mechanism and the
//     as-server flag into fixed arrays and returns an error for another
//     mechanism than NULL or a flag other than 0 or 1; it never looks at
//     the signature or version. No panic; the scanner checks them all.
//   - The first command, which must be READY: zmq4 parses its name
//     (bounds-checked) and its properties with Property.Write, which
//     panics on a key length equal to what is left and on fewer than four
//     bytes left for a value length; then it calls IsCompatible on the
//     peer's Socket-Type property, which panics for a type it does not
//     know, an empty one (no property) included. The scanner collects the
//     command and refuses it unless it is READY with well-formed
//     properties (names of ZMTP's name characters) and a Socket-Type, as
//     zmq4 will title-case its key, of PUB or XPUB: the types a SUB may
//     talk to.
//   - Frame headers: zmq4 uses the MORE, LONG and COMMAND bits and
//     allocates the announced size at once. The scanner refuses frames
//     and messages over the size limit, command frames over
//     maxCommand, a command with MORE, and data before READY. The
//     reserved bits are ignored by zmq4, and so by the scanner.
//   - Later commands (PING, ERROR, anything): zmq4's SUB reader passes
//     them on as command messages without parsing them; we skip those.
//
// FuzzGuard drives a zmq4 SUB through the scanner with arbitrary bytes.

// ZMTP framing.
const (
	zmtpGreeting = 64 // bytes of a ZMTP 3.x greeting
	flagMore     = 0x01
	flagLong     = 0x02
	flagCommand  = 0x04
	// maxCommand is the largest command frame accepted: a publisher's
	// READY holds a socket type and perhaps an identity, tens of bytes.
	maxCommand = 4096
)

var (
	// errOversize is returned by a read that would let zmq4 allocate
	// more than the limit.
	errOversize = errors.New("message over the size limit")
	// errHandshake is returned by a read that would hand zmq4 a greeting
	// or a READY command that is not a publisher's.
	errHandshake = errors.New("not a ZMTP 3 publisher's handshake")
)

// oversizeError is a frame header announcing Size bytes over the limit.
type oversizeError struct{ Size uint64 }

func (e oversizeError) Error() string {
	return fmt.Sprintf("zmtp frame of %d bytes: %v", e.Size, errOversize)
}
func (e oversizeError) Unwrap() error { return errOversize }

// frameScanner follows the ZMTP 3 stream of a connection fed to it in
// pieces of any size: the greeting, then frames, each a flags byte, a size
// of one byte (or eight, big-endian, with flagLong) and a body. It checks
// the greeting and the READY command, and the sizes.
type frameScanner struct {
	max      uint64 // the largest frame and message
	greeting [zmtpGreeting]byte
	greetN   int
	flags    byte
	inSize   bool // reading the size field
	size     [8]byte
	sizeLen  int    // bytes of the size field read so far
	skip     uint64 // bytes of the current frame's body still to pass over
	msg      uint64 // bytes of the current message's frames so far
	cmd      []byte // the body of the current command frame, while collected
	ready    bool   // the READY command was accepted
}

// feed advances over b. It returns an error wrapping errOversize or
// errHandshake at the first byte that makes the stream unacceptable.
func (s *frameScanner) feed(b []byte) error {
	for len(b) > 0 {
		switch {
		case s.greetN < zmtpGreeting:
			n := copy(s.greeting[s.greetN:], b)
			s.greetN += n
			b = b[n:]
			if s.greetN == zmtpGreeting {
				if err := checkGreeting(s.greeting[:]); err != nil {
					return err
				}
			}
		case s.skip > 0:
			n := min(s.skip, uint64(len(b)))
			if s.flags&flagCommand != 0 && !s.ready {
				s.cmd = append(s.cmd, b[:n]...)
			}
			s.skip -= n
			b = b[n:]
			if s.skip == 0 {
				if err := s.frameDone(); err != nil {
					return err
				}
			}
		case !s.inSize:
			s.flags = b[0]
			s.inSize, s.sizeLen = true, 0
			b = b[1:]
		default:
			want := 1
			if s.flags&flagLong != 0 {
				want = 8
			}
			n := copy(s.size[s.sizeLen:want], b)
			s.sizeLen += n
			b = b[n:]
			if s.sizeLen < want {
				continue
			}
			size := uint64(s.size[0])
			if want == 8 {
				size = binary.BigEndian.Uint64(s.size[:])
			}
			if err := s.header(size); err != nil {
				return err
			}
			s.skip, s.inSize = size, false
			if size == 0 {
				if err := s.frameDone(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// header checks a frame's flags and size.
func (s *frameScanner) header(size uint64) error {
	if size > s.max || s.msg+size > s.max {
		return oversizeError{size}
	}
	command := s.flags&flagCommand != 0
	switch {
	case command && (size > maxCommand || s.flags&flagMore != 0):
		return fmt.Errorf("command frame of %d bytes (flags %#x): %w", size, s.flags, errHandshake)
	case !command && !s.ready:
		return fmt.Errorf("a message before the READY command: %w", errHandshake)
	}
	s.cmd = s.cmd[:0]
	s.msg += size
	return nil
}

// frameDone is called at the end of each frame's body.
func (s *frameScanner) frameDone() error {
	if s.flags&flagMore == 0 {
		s.msg = 0
	}
	if s.flags&flagCommand == 0 || s.ready {
		return nil
	}
	if err := checkReady(s.cmd); err != nil {
		return err
	}
	s.ready, s.cmd = true, nil
	return nil
}

// checkGreeting checks a ZMTP 3 greeting for the NULL mechanism.
func checkGreeting(g []byte) error {
	mech := g[12:32]
	nul := 0
	for nul < len(mech) && mech[nul] != 0 {
		nul++
	}
	for _, c := range mech[nul:] {
		if c != 0 {
			nul = -1
		}
	}
	switch {
	case g[0] != 0xFF || g[9] != 0x7F:
		return fmt.Errorf("no ZMTP signature: %w", errHandshake)
	case g[10] < 3:
		return fmt.Errorf("ZMTP version %d.%d: %w", g[10], g[11], errHandshake)
	case nul < 0 || string(mech[:nul]) != "NULL":
		return fmt.Errorf("security mechanism %q: %w", mech, errHandshake)
	case g[32] > 1:
		return fmt.Errorf("as-server flag %d: %w", g[32], errHandshake)
	}
	return nil
}

// checkReady checks the body of the first command: READY, with
// well-formed properties and the Socket-Type of a publisher.
func checkReady(body []byte) error {
	if len(body) == 0 || int(body[0]) == 0 || int(body[0]) > len(body)-1 {
		return fmt.Errorf("malformed command: %w", errHandshake)
	}
	if name := string(body[1 : 1+body[0]]); name != "READY" {
		return fmt.Errorf("command %q instead of READY: %w", name, errHandshake)
	}
	props := body[1+body[0]:]
	typ, found := "", false
	for len(props) > 0 {
		klen := int(props[0])
		if klen == 0 || 1+klen+4 > len(props) {
			return fmt.Errorf("malformed READY property: %w", errHandshake)
		}
		key := props[1 : 1+klen]
		vlen := binary.BigEndian.Uint32(props[1+klen:])
		if uint64(vlen) > uint64(len(props)-1-klen-4) {
			return fmt.Errorf("malformed READY property %q: %w", key, errHandshake)
		}
		for _, c := range key {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '+') {
				return fmt.Errorf("READY property name %q: %w", key, errHandshake)
			}
		}
		value := props[1+klen+4 : 1+klen+4+int(vlen)]
		// zmq4 title-cases the keys it reads, with this very function,
		// and looks up Socket-Type.
		if cases.Title(language.Und, cases.NoLower).String(string(key)) == "Socket-Type" {
			typ, found = string(value), true
			if typ != "PUB" && typ != "XPUB" {
				return fmt.Errorf("peer socket type %q, not PUB or XPUB: %w", typ, errHandshake)
			}
		}
		props = props[1+klen+4+int(vlen):]
	}
	if !found {
		return fmt.Errorf("READY without a Socket-Type: %w", errHandshake)
	}
	return nil
}
