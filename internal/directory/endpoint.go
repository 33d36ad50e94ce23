package directory

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Endpoints are the URLs the hub posts to: applications' callbacks (the prefixes their
// asynchronous answers may go to), subscriptions' push endpoints, remote services. The
// hub compares them as URLs, never as strings, and posts only to the normal form it
// checked: a string comparison let http://<registered>@<attacker>/ through (issue #13).
// Every caller (directory validation, the asynchronous worker, the event deliverer)
// goes through ParseEndpoint and UnderPrefix.
//
// The rules are strict on purpose: an allow-list is only as good as the parser that
// reads it, and the hub's parser, the HTTP client's and the receiving server's must not
// disagree. So a URL that different parsers may read differently (user-info, a
// backslash, an encoded slash, a numeric host other than dotted decimal, a trailing dot,
// non-ASCII) is refused rather than interpreted.

// MaxEndpoint is the longest endpoint accepted, in bytes.
const MaxEndpoint = 2048

// ParseEndpoint parses raw as an absolute http or https URL the hub may post to and
// returns its normal form: scheme and host in lower case, no default port (80, 443),
// an IPv6 address in its canonical form, the path without dot segments (also
// percent-encoded ones) and with unreserved characters decoded. It refuses, with a
// fault.Invalid on field: other schemes, user-info, fragments, empty hosts, numeric hosts
// other than dotted-decimal IPv4 and IPv6 in brackets, link-local, unspecified, multicast
// and broadcast addresses, cloud metadata ones, IPv4-mapped IPv6 ones and IPv6 ones
// embedding a refused IPv4 address (needPostable, Dialable), trailing dots, zones, ports with leading zeros,
// empty path segments ("//"), encoded slashes and backslashes, encoded control
// characters, and any character outside RFC 3986 (spaces, controls, backslashes,
// non-ASCII: international names are written in punycode).
func ParseEndpoint(field, raw string) (*url.URL, error) {
	bad := func(why string) error {
		return fault.Invalidf(field, "%q is not an http(s) URL the hub may post to: %s", clip(raw), why)
	}
	if raw == "" {
		return nil, fault.Invalidf(field, "is required")
	}
	if len(raw) > MaxEndpoint {
		return nil, bad("longer than " + strconv.Itoa(MaxEndpoint) + " characters")
	}
	for i := 0; i < len(raw); i++ {
		if !uriChar(raw[i]) {
			return nil, bad("it holds a character URLs may not (space, control, backslash, quote, non-ASCII)")
		}
	}
	if strings.Contains(raw, "#") {
		return nil, bad("a fragment (#) is refused")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, bad("it does not parse")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, bad("the scheme must be http or https")
	}
	if u.User != nil || strings.Contains(u.Host, "@") {
		return nil, bad("user information (user@host) is refused")
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, bad("no host")
	}
	host, err := normalHost(u.Scheme, u.Host)
	if err != nil {
		return nil, bad(err.Error())
	}
	path, err := normalPath(u.EscapedPath())
	if err != nil {
		return nil, bad(err.Error())
	}
	n := &url.URL{Scheme: u.Scheme, Host: host, RawQuery: u.RawQuery}
	if path != "" {
		if n.Path, err = url.PathUnescape(path); err != nil {
			return nil, bad("it does not parse")
		}
		n.RawPath = path
	}
	return n, nil
}

// ParsePrefix is ParseEndpoint for a URL other URLs must be under (a callback prefix) or
// that paths are appended to (a service's base URL): it may not hold a query.
func ParsePrefix(field, raw string) (*url.URL, error) {
	u, err := ParseEndpoint(field, raw)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || strings.Contains(raw, "?") {
		return nil, fault.Invalidf(field, "%q is not an http(s) URL the hub may post to: a query is refused here", clip(raw))
	}
	return u, nil
}

// UnderPrefix reports whether u is prefix or under it; both are normal forms
// (ParseEndpoint, ParsePrefix). Scheme, host and port must be equal; the path is
// compared by whole segments: http://h/dci covers http://h/dci and http://h/dci/x but not
// http://h/dci-evil; http://h/dci/ covers what is below it (http://h/dci/x), not
// http://h/dci. An empty path is the root.
func UnderPrefix(u, prefix *url.URL) bool {
	if u == nil || prefix == nil || u.Scheme != prefix.Scheme || u.Host != prefix.Host || prefix.RawQuery != "" {
		return false
	}
	path, p := u.EscapedPath(), prefix.EscapedPath()
	if path == "" {
		path = "/"
	}
	if p == "" {
		p = "/"
	}
	if strings.HasSuffix(p, "/") {
		return strings.HasPrefix(path, p)
	}
	return path == p || strings.HasPrefix(path, p+"/")
}

// CallbackUnder returns the normal form of raw when it is under one of prefixes, else a
// fault.Invalid on field. A prefix that breaks the rules (a record stored before them)
// covers nothing.
func CallbackUnder(field string, prefixes []string, raw string) (string, error) {
	u, err := ParseEndpoint(field, raw)
	if err != nil {
		return "", err
	}
	for _, s := range prefixes {
		if p, err := ParsePrefix("", s); err == nil && UnderPrefix(u, p) {
			return u.String(), nil
		}
	}
	return "", fault.Invalidf(field, "is not under a callback URL registered for the application")
}

// needEndpoint checks an endpoint in a record and replaces it with its normal form.
func needEndpoint(field string, v *string, parse func(string, string) (*url.URL, error)) error {
	u, err := parse(field, *v)
	if err != nil {
		return err
	}
	*v = u.String()
	return nil
}

// uriChar reports whether c may appear in a URL (RFC 3986: unreserved, reserved and '%').
func uriChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~:/?#[]@!$&'()*+,;=%", c) >= 0
}

// normalHost checks a URL's host[:port] and returns its normal form.
func normalHost(scheme, hostport string) (string, error) {
	host, port := hostport, ""
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.HasSuffix(hostport, "]") {
		host, port = hostport[:i], hostport[i+1:]
		if port == "" {
			return "", errors.New("an empty port")
		}
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || port[0] == '0' || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return "", errors.New("the port must be a number from 1 to 65535, without leading zeros")
		}
		if (scheme == "http" && n == 80) || (scheme == "https" && n == 443) {
			port = ""
		}
	}
	if strings.HasPrefix(host, "[") {
		a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
		if err != nil || !a.Is6() || a.Zone() != "" || !strings.HasSuffix(host, "]") {
			return "", errors.New("the host is not an IPv6 address (zones are refused)")
		}
		if err := needPostable(a); err != nil {
			return "", err
		}
		host = "[" + a.String() + "]"
	} else if err := needHostName(host); err != nil {
		return "", err
	} else {
		host = strings.ToLower(host)
	}
	if port != "" {
		return host + ":" + port, nil
	}
	return host, nil
}

// needHostName accepts a dotted-decimal IPv4 address or a DNS name (letters, digits,
// '-', '_'; labels of 1 to 63 characters). A name that ends in a number is an IPv4
// address to browsers and resolvers (2130706433, 0x7f.1, 127.1): unless it is dotted
// decimal, it is refused, so that no two parsers read it differently.
func needHostName(h string) error {
	if h == "" {
		return errors.New("no host")
	}
	if strings.HasSuffix(h, ".") {
		return errors.New("a host ending with a dot is refused")
	}
	if len(h) > 253 {
		return errors.New("the host name is longer than 253 characters")
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return errors.New("the host is not a name")
		}
		for i := 0; i < len(l); i++ {
			c := l[i] | 0x20 // lower case for letters
			if !('a' <= c && c <= 'z') && !('0' <= l[i] && l[i] <= '9') && l[i] != '-' && l[i] != '_' {
				return errors.New("the host is not a name (international names are written in punycode)")
			}
		}
	}
	if last := strings.ToLower(labels[len(labels)-1]); numeric(last) {
		a, err := netip.ParseAddr(h)
		if err != nil || !a.Is4() {
			return errors.New("a numeric host must be an IPv4 address in dotted decimal, without leading zeros")
		}
		return needPostable(a)
	}
	return nil
}

// needPostable refuses, in a URL, the addresses nothing should be posted to (Dialable)
// and IPv4 addresses written as IPv6 (::ffff:a.b.c.d), which are to be written as IPv4.
func needPostable(a netip.Addr) error {
	if a.Is4In6() {
		return errors.New("an IPv4-mapped IPv6 address is refused: write the IPv4 address")
	}
	return Dialable(a)
}

// Dialable refuses the addresses nothing should be posted to: link-local ones
// (169.254.0.0/16, fe80::/10: the cloud metadata service answers there), the other cloud
// metadata addresses (metadata), unspecified, multicast and broadcast ones, and IPv6
// addresses that embed an IPv4 address refused (IPv4-mapped and -compatible, NAT64,
// 6to4, Teredo: embedded). Loopback and private addresses are allowed: the demo and
// institutions' internal networks use them. The hub's sending client checks every
// address it connects to with it, after names are resolved.
func Dialable(a netip.Addr) error {
	a = a.WithZone("")
	switch {
	case a.IsLinkLocalUnicast():
		return errors.New("a link-local address (169.254.0.0/16, fe80::/10) is refused")
	case a.IsUnspecified():
		return errors.New("an unspecified address (0.0.0.0, ::) is refused")
	case a.IsMulticast(), a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return errors.New("a multicast or broadcast address is refused")
	case metadata[a]:
		return errors.New("a cloud metadata address is refused")
	}
	if v4, form, ok := embedded(a); ok {
		if err := Dialable(v4); err != nil {
			return fmt.Errorf("%s address embeds %s: %w", form, v4, err)
		}
	}
	return nil
}

// metadata are the cloud metadata services' addresses outside the link-local ranges.
var metadata = map[netip.Addr]bool{
	netip.MustParseAddr("fd00:ec2::254"):   true, // AWS, over IPv6
	netip.MustParseAddr("100.100.100.200"): true, // Alibaba Cloud
}

var (
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour  = netip.MustParsePrefix("2002::/16")
	teredo     = netip.MustParsePrefix("2001::/32")
	compatible = netip.MustParsePrefix("::/96")
)

// embedded returns the IPv4 address an IPv6 address carries, and the form that carries
// it: IPv4-mapped (::ffff:0:0/96) and -compatible (::/96), NAT64 (64:ff9b::/96, its
// last 32 bits; 64:ff9b:1::/48 as RFC 8215 suggests, the same bits), 6to4 (2002::/16,
// bits 16-47) and Teredo (2001::/32, the client's address inverted in the last 32).
func embedded(a netip.Addr) (netip.Addr, string, bool) {
	if !a.Is6() {
		return netip.Addr{}, "", false
	}
	b := a.As16()
	last := netip.AddrFrom4([4]byte(b[12:16]))
	switch {
	case a.Is4In6():
		return last, "an IPv4-mapped", true
	case nat64.Contains(a), nat64Local.Contains(a):
		return last, "a NAT64", true
	case compatible.Contains(a) && !a.IsUnspecified() && !a.IsLoopback():
		return last, "an IPv4-compatible", true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6])), "a 6to4", true
	case teredo.Contains(a):
		return netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]}), "a Teredo", true
	}
	return netip.Addr{}, "", false
}

// numeric reports whether a host's last label is a number to an IPv4 parser: decimal,
// or hexadecimal after 0x.
func numeric(l string) bool {
	if rest, ok := strings.CutPrefix(l, "0x"); ok {
		l = rest
		if l == "" {
			return true
		}
		return strings.Trim(l, "0123456789abcdef") == ""
	}
	return strings.Trim(l, "0123456789") == ""
}

// normalPath returns an escaped path in normal form: percent-encodings of unreserved
// characters decoded, others in upper case; characters outside a segment's set encoded;
// dot segments removed (RFC 3986, 5.2.4), also encoded ones. It refuses empty segments
// ("//"), which some servers and proxies read as a host, and encoded slashes,
// backslashes and control characters, which they may decode.
func normalPath(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		s, err := normalSegment(s)
		if err != nil {
			return "", err
		}
		last := i == len(segs)-1
		switch s {
		case "":
			if !last {
				return "", errors.New("an empty path segment (//) is refused")
			}
			out = append(out, "")
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/"), nil
}

const upperhex = "0123456789ABCDEF"

func normalSegment(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			if pchar(c) {
				b.WriteByte(c)
			} else {
				b.WriteString("%" + string(upperhex[c>>4]) + string(upperhex[c&15]))
			}
			continue
		}
		if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
			return "", errors.New("a bad percent-encoding")
		}
		d := byte(unhex(s[i+1])<<4 | unhex(s[i+2]))
		i += 2
		switch {
		case d == '/' || d == '\\':
			return "", errors.New("an encoded slash or backslash in the path is refused")
		case d < 0x20 || d == 0x7f:
			return "", errors.New("an encoded control character in the path is refused")
		case unreserved(d):
			b.WriteByte(d)
		default:
			b.WriteString("%" + string(upperhex[d>>4]) + string(upperhex[d&15]))
		}
	}
	return b.String(), nil
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// pchar reports whether c may appear unencoded in a path segment (RFC 3986).
func pchar(c byte) bool {
	return unreserved(c) || strings.IndexByte("!$&'()*+,;=:@", c) >= 0
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
