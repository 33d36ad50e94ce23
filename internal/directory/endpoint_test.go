package directory

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		raw  string
		want string // the normal form; "" means refused
	}{
		{"http://127.0.0.1:19300", "http://127.0.0.1:19300"},
		{"http://127.0.0.1:19300/dci/", "http://127.0.0.1:19300/dci/"},
		{"HTTP://LocalHost:80/A/b", "http://localhost/A/b"},
		{"https://Example.ORG:443/x?a=1&b=2", "https://example.org/x?a=1&b=2"},
		{"https://example.org:80/", "https://example.org:80/"},
		{"http://example.org:443/", "http://example.org:443/"},
		{"http://[0:0:0:0:0:0:0:1]:8080/cb", "http://[::1]:8080/cb"},
		{"http://[2001:DB8::1]:8080/x", "http://[2001:db8::1]:8080/x"},
		{"http://h/a/./b/../c", "http://h/a/c"},
		{"http://h/a/%2e%2E/c", "http://h/c"},
		{"http://h/a/.%2e/c", "http://h/c"},
		{"http://h/../../etc", "http://h/etc"},
		{"http://h/a/..", "http://h/"},
		{"http://h/a/.", "http://h/a/"},
		{"http://h/%64ci/%7euser", "http://h/dci/~user"},
		{"http://h/a%3bb%c3%a9", "http://h/a%3Bb%C3%A9"},
		{"http://h/a[b]", "http://h/a%5Bb%5D"},
		{"http://h/a;b=c:d@e", "http://h/a;b=c:d@e"},
		{"http://my_service.internal:9000/x", "http://my_service.internal:9000/x"},
		{"http://xn--bcher-kva.example/", "http://xn--bcher-kva.example/"},
		{"http://h/x?", "http://h/x"},

		// Refused.
		{"", ""},
		{"http://127.0.0.1:19300@127.0.0.1:19301/steal", ""},
		{"http://user:pw@h/", ""},
		{"http://@h/", ""},
		{"http://h%40evil/", ""},
		{"http://h:1%40evil:2/", ""},
		{`http://h\@evil/`, ""},
		{`http://h/a\b`, ""},
		{"http://h/#frag", ""},
		{"http://h#@evil/", ""},
		{"http://h:019300/", ""},
		{"http://h:0/", ""},
		{"http://h:65536/", ""},
		{"http://h:/", ""},
		{"http://h:80:81/", ""},
		{"http://h:1.evil/", ""},
		{"http://2130706433/", ""},
		{"http://0x7f.1/", ""},
		{"http://0x7f000001/", ""},
		{"http://017700000001/", ""},
		{"http://0177.0.0.1/", ""},
		{"http://127.000.000.001/", ""},
		{"http://127.1/", ""},
		{"http://1.2.3.4.5/", ""},
		{"http://example.0x1f/", ""},
		{"http://127.0.0.1./", ""},
		{"http://example.org./", ""},
		{"http://[fe80::1%25eth0]/", ""},
		{"http://[127.0.0.1]/", ""},
		{"http://[::FFFF:127.0.0.1]/", ""},
		{"http://[::ffff:a9fe:a9fe]/", ""},
		{"http://169.254.169.254/latest/", ""},
		{"http://[fd00:ec2::254]/", ""},                              // AWS metadata over IPv6
		{"http://100.100.100.200/latest/", ""},                       // Alibaba metadata
		{"http://[64:ff9b::a9fe:a9fe]/", ""},                         // NAT64 of 169.254.169.254
		{"http://[64:ff9b:1::a9fe:a9fe]/", ""},                       // local-use NAT64
		{"http://[::a9fe:a9fe]/", ""},                                // IPv4-compatible
		{"http://[2002:a9fe:a9fe::]/", ""},                           // 6to4
		{"http://[2001:0:4136:e378:8000:63bf:5601:5601]/", ""},       // Teredo, client 169.254.169.254 (inverted)
		{"http://[64:ff9b::a01:203]/", "http://[64:ff9b::a01:203]/"}, // NAT64 of 10.1.2.3: a private address stays allowed
		{"http://[fe80::1]/", ""},
		{"http://0.0.0.0/", ""},
		{"http://[::]/", ""},
		{"http://224.0.0.1/", ""},
		{"http://[ff02::1]/", ""},
		{"http://255.255.255.255/", ""},
		{"http://-h/", ""},
		{"http://h..i/", ""},
		{"http:///x", ""},
		{"http://:80/x", ""},
		{"http:h/x", ""},
		{"http:/h/x", ""},
		{"//h/x", ""},
		{"/relative", ""},
		{"file:///etc/passwd", ""},
		{"gopher://h:70/_POST", ""},
		{"ftp://h/", ""},
		{"javascript:alert(1)", ""},
		{"builtin:civil", ""},
		{" http://h/", ""},
		{"http://h/ x", ""},
		{"http://h/x\r\nHost: evil", ""},
		{"http://h/x\t", ""},
		{"http://h/x\x00", ""},
		{"http://bücher.example/", ""},
		{"http://127。0。0。1/", ""},
		{"http://h/ｓ", ""},
		{"http://h//evil/x", ""},
		{"http://h/a//b", ""},
		{"http://h/a%2fb", ""},
		{"http://h/a%2F..%2Fb", ""},
		{"http://h/a%5cb", ""},
		{"http://h/a%00b", ""},
		{"http://h/a%0d%0ab", ""},
		{"http://h/a%zz", ""},
		{"http://h/" + strings.Repeat("a", MaxEndpoint), ""},
		{`http://h/"x"`, ""},
		{"http://h/<x>", ""},
	}
	for _, tt := range tests {
		u, err := ParseEndpoint("endpoint", tt.raw)
		got := ""
		if err == nil {
			got = u.String()
		} else if field, invalid := fieldOf(err); !invalid || field != "endpoint" {
			t.Errorf("ParseEndpoint(%q) = %v; want an Invalid fault on endpoint", tt.raw, err)
		}
		if got != tt.want {
			t.Errorf("ParseEndpoint(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
		if err == nil {
			// The normal form is a fixed point.
			if again, err := ParseEndpoint("endpoint", got); err != nil || again.String() != got {
				t.Errorf("ParseEndpoint(%q) = %v, %v; want it unchanged", got, again, err)
			}
		}
	}
}

func TestParsePrefixRefusesQueries(t *testing.T) {
	for _, raw := range []string{"http://h/dci?x=1", "http://h/dci?"} {
		if u, err := ParsePrefix("callbacks[0]", raw); err == nil {
			t.Errorf("ParsePrefix(%q) = %v; want refused", raw, u)
		}
	}
}

func TestUnderPrefix(t *testing.T) {
	tests := []struct {
		prefix, uri string
		want        bool
	}{
		{"http://h:1/dci", "http://h:1/dci", true},
		{"http://h:1/dci", "http://h:1/dci/on-search", true},
		{"http://h:1/dci", "http://h:1/dci-evil", false},
		{"http://h:1/dci", "http://h:1/dcievil/x", false},
		{"http://h:1/dci", "http://h:1/", false},
		{"http://h:1/dci/", "http://h:1/dci/on-search", true},
		{"http://h:1/dci/", "http://h:1/dci/", true},
		{"http://h:1/dci/", "http://h:1/dci", false},
		{"http://h:1/dci/", "http://h:1/dci/../admin", false},
		{"http://h:1/dci/", "http://h:1/dci/x/../on-search", true},
		{"http://h:1/dci/", "http://h:1/dci/%2e%2e/admin", false},
		{"http://h:1/dci/", "http://h:1/DCI/x", false},
		{"http://h:1/dci/", "http://h:1/%64ci/x", true},
		{"http://h:1/dci/", "http://h:1/dci/x?y=1", true},
		{"http://h:1", "http://h:1", true},
		{"http://h:1", "http://h:1/", true},
		{"http://h:1", "http://h:1/any/thing", true},
		{"http://h:1/", "http://h:1", true},
		{"http://h:1", "HTTP://H:1/x", true},
		{"http://h:1", "https://h:1/x", false},
		{"http://h:1", "http://h:2/x", false},
		{"http://h:1", "http://h:11/x", false},
		{"http://h:1", "http://h/x", false},
		{"http://h", "http://h:80/x", true},
		{"http://h:80", "http://h/x", true},
		{"https://h", "https://h:443/x", true},
		{"https://h", "http://h:443/x", false},
		{"http://h", "http://h:8080/x", false},
		{"http://h", "http://hh/x", false},
		{"http://h", "http://h.evil/x", false},
		{"http://h.evil", "http://h/x", false},
		{"http://127.0.0.1:19300", "http://127.0.0.1:19300@127.0.0.1:19301/steal", false},
		{"http://127.0.0.1:19300", "http://[::1]:19300/x", false},
		{"http://127.0.0.1:19300", "http://[::ffff:127.0.0.1]:19300/x", false},
		{"http://127.0.0.1:19300", "http://2130706433:19300/x", false},
		{"http://127.0.0.1:19300", "http://localhost:19300/x", false},
		{"http://[::1]:19300", "http://[0:0::1]:19300/x", true},
		{"http://[::1]:19300", "http://[::2]:19300/x", false},
	}
	for _, tt := range tests {
		p, err := ParsePrefix("prefix", tt.prefix)
		if err != nil {
			t.Fatalf("ParsePrefix(%q): %v", tt.prefix, err)
		}
		u, err := ParseEndpoint("uri", tt.uri)
		got := err == nil && UnderPrefix(u, p)
		if got != tt.want {
			t.Errorf("UnderPrefix(%q, %q) = %v (parse: %v); want %v", tt.uri, tt.prefix, got, err, tt.want)
		}
	}
}

func TestCallbackAllowed(t *testing.T) {
	app := Application{Callbacks: []string{"http://127.0.0.1:19300", "https://partner.example/dci", "http://old@record/"}}
	tests := []struct {
		uri, want string // want "" means refused
	}{
		{"http://127.0.0.1:19300/on-search", "http://127.0.0.1:19300/on-search"},
		{"HTTPS://Partner.Example:443/dci/./on-search", "https://partner.example/dci/on-search"},
		{"https://partner.example/dci-evil", ""},
		{"http://127.0.0.1:19300@127.0.0.1:19301/steal", ""},
		{"http://record/", ""}, // a stored prefix that breaks the rules covers nothing
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := app.CallbackAllowed(tt.uri)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("CallbackAllowed(%q) = %q, %v; want %q", tt.uri, got, ok, tt.want)
		}
	}
}

func TestEndpointsInRecordsAreNormalised(t *testing.T) {
	app := Application{ID: "app", Institution: "PF", Name: "x", AuthMethods: []string{AuthClientSecret},
		Callbacks: []string{"HTTP://H:80/dci/", "https://h/x"}}
	if err := app.validate(); err != nil || app.Callbacks[0] != "http://h/dci/" {
		t.Errorf("validate() = %v, callbacks %q; want http://h/dci/ first", err, app.Callbacks)
	}
	app.Callbacks = []string{"http://h/dci/", "HTTP://h:80/dci/"}
	if field, _ := fieldOf(app.validate()); field != "callbacks[1]" {
		t.Errorf("the same callback written twice: field %q; want callbacks[1]", field)
	}
	sub := Subscription{ID: "s", Institution: "PF", EventTypes: []string{"death"}, Mode: ModePush, Endpoint: "http://H/a/../push"}
	if err := sub.validate(); err != nil || sub.Endpoint != "http://h/push" {
		t.Errorf("validate() = %v, endpoint %q; want http://h/push", err, sub.Endpoint)
	}
	svc := Service{ID: "s", Institution: "CR", Registry: "civil", Name: "x", Fields: []string{"sex"}, Endpoint: "builtin:civil"}
	if err := svc.validate(); err != nil {
		t.Errorf("built-in service: %v", err)
	}
}

// FuzzEndpoint: parsing never panics; an accepted URL's normal form is a fixed point
// with no dot segment, empty segment or encoded slash; and a URL under a prefix goes,
// read by Go's own URL parser as the HTTP client would, to the prefix's scheme, host
// and port.
func FuzzEndpoint(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1:19300@127.0.0.1:19301/steal", "http://127.0.0.1:19300/dci/../../admin/x",
		"http://127.0.0.1:19300/dci/%2e%2e/admin", "http://127.0.0.1:19300%40evil/", `http://127.0.0.1:19300\@evil/`,
		"http://127.0.0.1:19300#@evil/", "HTTP://127.0.0.1:19300/x", "http://127.0.0.1:019300/", "http://[::1]:19300/",
		"http://2130706433:19300/", "http://0x7f.1:19300/", "http://127.0.0.1.:19300/", "http://127.0.0.1:19300//evil/",
		"http://127.0.0.1:193001/", "http://127.0.0.1:19300/dci-evil", "http://127.0.0.1:19300/dci/on-search?x=1",
	} {
		f.Add(s, "http://127.0.0.1:19300/dci")
		f.Add(s, "http://127.0.0.1:19300")
	}
	f.Fuzz(func(t *testing.T, raw, prefix string) {
		u, err := ParseEndpoint("endpoint", raw)
		if err != nil {
			return
		}
		norm := u.String()
		if again, err := ParseEndpoint("endpoint", norm); err != nil || again.String() != norm {
			t.Fatalf("ParseEndpoint(%q) = %q; again: %v, %v", raw, norm, again, err)
		}
		path := u.EscapedPath()
		for _, bad := range []string{"/./", "/../", "//", "%2F", "%2f", "%5C", "%5c", "\\", "#", "@"} {
			if strings.Contains(path, bad) && bad != "@" || strings.Contains(u.Host, bad) {
				t.Fatalf("ParseEndpoint(%q) = %q: holds %q", raw, norm, bad)
			}
		}
		p, err := ParsePrefix("prefix", prefix)
		if err != nil || !UnderPrefix(u, p) {
			return
		}
		ru, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("ParseEndpoint accepted %q, url.Parse refuses it: %v", raw, err)
		}
		rp, _ := url.Parse(prefix)
		if ru.User != nil || ru.Scheme != rp.Scheme || origin(ru) != origin(rp) {
			t.Fatalf("%q is under %q, but goes to %s://%s (user %v); the prefix to %s://%s", raw, prefix, ru.Scheme, origin(ru), ru.User, rp.Scheme, origin(rp))
		}
	})
}

// origin is where Go's HTTP client connects for u: the host (an IP address in its
// canonical form, a name in lower case) and the port, the scheme's default if none.
func origin(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if a, err := netip.ParseAddr(host); err == nil {
		host = a.String()
	}
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return host + " port " + port
}
