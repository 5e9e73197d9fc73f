package zabbix

import (
	"strconv"
	"unicode/utf8"
)

// appendRequest appends the JSON of a sender's request of the values of
// batch's parts, in turn, stamped at clock and ns: what json.Marshal of a request gives (but for <, >
// and &, left as they are), written without reflection, which took most
// of the push's CPU (BenchmarkEncode).
func appendRequest(b []byte, clock, ns int64, batch ...[]value) []byte {
	b = append(b, `{"request":"sender data","data":[`...)
	comma := false
	for _, part := range batch {
		b = appendValues(b, part, comma)
		comma = comma || len(part) > 0
	}
	b = append(b, `],"clock":`...)
	b = strconv.AppendInt(b, clock, 10)
	b = append(b, `,"ns":`...)
	b = strconv.AppendInt(b, ns, 10)
	return append(b, '}')
}

// appendValues appends the JSON objects of values, after a comma when
// comma.
func appendValues(b []byte, values []value, comma bool) []byte {
	for i := range values {
		v := &values[i]
		if comma || i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"host":`...)
		b = appendString(b, v.Host)
		b = append(b, `,"key":`...)
		b = appendString(b, v.Key)
		b = append(b, `,"value":`...)
		if v.IsNum {
			b = append(b, '"')
			b = strconv.AppendFloat(b, v.Num, 'f', -1, 64)
			b = append(b, '"')
		} else {
			b = appendString(b, v.Value)
		}
		b = append(b, `,"clock":`...)
		b = strconv.AppendInt(b, v.Clock, 10)
		b = append(b, `,"ns":`...)
		b = strconv.AppendInt(b, v.NS, 10)
		b = append(b, '}')
	}
	return b
}

// appendString appends s as a JSON string: quotes, backslashes and
// control characters escaped, and each byte that is not UTF-8 replaced by
// U+FFFD, as encoding/json does.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON; kept as they are.
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
