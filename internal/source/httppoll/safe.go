package httppoll

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"unicode/utf8"
)

// MaxErrorBytes is the longest error text a polled source logs, notifies
// or keeps: an answer may put anything in what ends up in an error.
const MaxErrorBytes = 300

// Brief returns err's text cut to MaxErrorBytes (at a character boundary)
// and on one line; "" for nil.
func Brief(err error) string {
	if err == nil {
		return ""
	}
	s := strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, err.Error())
	if len(s) <= MaxErrorBytes {
		return s
	}
	cut := MaxErrorBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// Redact returns the URL as it may be shown (logged, in a notification, a
// metric's label): without its user and password, and without its query,
// which may hold a token. Of what is not a URL with a host, what comes
// before an '@' is cut too.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		// Not a URL with a host (a typo on the command line): what may
		// be a user and password is cut.
		if i := strings.LastIndex(raw, "@"); i >= 0 {
			return "...@" + noQuery(raw[i+1:])
		}
		if err != nil {
			return "(a URL that does not parse)"
		}
		return noQuery(raw)
	}
	u.User = nil
	if u.RawQuery != "" || u.ForceQuery {
		u.RawQuery, u.ForceQuery = "", false
		return u.String() + "?..."
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

func noQuery(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		return s[:i] + "?..."
	}
	return s
}

// ErrRedirect is what a poll returns, wrapped, for a redirect it does not
// follow.
var ErrRedirect = errors.New("redirected")

// Client returns a copy of base (nil: a plain client) that follows a
// redirect only to the same scheme, host and port, at most 3 times: the
// credentials of a request must not reach another server, and another
// server's answer must not pass for the polled one's.
func Client(base *http.Client) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
			return fmt.Errorf("%w to %s: not followed (only redirects to the same scheme, host and port are)", ErrRedirect, Redact(req.URL.Scheme+"://"+req.URL.Host))
		}
		if len(via) >= 3 {
			return fmt.Errorf("%w more than 3 times", ErrRedirect)
		}
		return nil
	}
	return c
}

// Permanent reports whether err is a failure that polling again soon will
// not cure: the connection refused, a TLS or certificate error, a
// redirect not followed, or a status such as 401, 403 or 404. A check
// reports it at once rather than waiting for its time out.
func Permanent(err error) bool {
	var (
		cert  *tls.CertificateVerificationError
		unk   x509.UnknownAuthorityError
		host  x509.HostnameError
		inval x509.CertificateInvalidError
		rec   tls.RecordHeaderError
		dns   *net.DNSError
		st    *StatusError
	)
	switch {
	case err == nil:
		return false
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, ErrRedirect),
		errors.As(err, &cert), errors.As(err, &unk), errors.As(err, &host), errors.As(err, &inval), errors.As(err, &rec):
		return true
	case errors.As(err, &dns):
		return dns.IsNotFound
	case errors.As(err, &st):
		return st.Code >= 400 && st.Code < 500 && st.Code != http.StatusRequestTimeout && st.Code != http.StatusTooManyRequests
	}
	return false
}

// StatusError is an answer other than 200 OK; it wraps ErrStatus.
type StatusError struct {
	Code   int
	Status string // cut to a line's worth
}

func (e *StatusError) Error() string { return "status " + e.Status }

// Unwrap makes a StatusError an ErrStatus.
func (e *StatusError) Unwrap() error { return ErrStatus }
