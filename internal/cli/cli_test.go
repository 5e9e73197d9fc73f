package cli

import "testing"

// TestRedact: passwords of URLs are hidden, wherever they stand in a
// message; the rest is kept.
func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		`invalid value "tcp://u:p@h:1" for flag -endpoint`:    `invalid value "tcp://u:xxxxx@h:1" for flag -endpoint`,
		"--rabbitmq http://guest:gu%20est@h:15672/x and more": "--rabbitmq http://guest:xxxxx@h:15672/x and more",
		"http://user@h:1 keeps a user without a password":     "http://user@h:1 keeps a user without a password",
		"two: http://a:b@h https://c:d@i":                     "two: http://a:xxxxx@h https://c:xxxxx@i",
		"no URL: a:b@c":                                       "no URL: a:b@c",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
