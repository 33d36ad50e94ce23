package attack_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/synth"
)

// Addresses the hub must never post to, whoever registers them: link-local (the cloud
// metadata service at 169.254.169.254), unspecified, multicast and broadcast addresses,
// and IPv4 addresses written as IPv6 (which other parsers read as IPv4). IPv6 literals
// in brackets are accepted otherwise, as the README says (#13, F5).
func TestEndpointAddressesRefused(t *testing.T) {
	tg := start(t, nil)
	path := "/admin/applications/" + synth.AppID(synth.HealthInsurer1)
	status, before := tg.adminDo(t, "GET", path, nil)
	if status != 200 {
		t.Fatalf("GET %s: %d", path, status)
	}
	put := func(callback string) (int, []byte) {
		var app map[string]any
		if err := json.Unmarshal(before, &app); err != nil {
			t.Fatal(err)
		}
		app["callbacks"] = []string{callback}
		return tg.adminDo(t, "PUT", path, app)
	}
	t.Cleanup(func() {
		var old map[string]any
		_ = json.Unmarshal(before, &old)
		tg.adminDo(t, "PUT", path, old)
	})
	for _, u := range []string{
		"http://169.254.169.254/latest/meta-data/",
		"http://169.254.0.1:8080/x",
		"http://[fe80::1]/x",
		"http://[fe80::a9fe:a9fe]/x",
		"http://0.0.0.0:8080/x",
		"http://[::]:8080/x",
		"http://224.0.0.1/x",
		"http://239.255.255.250:1900/x",
		"http://[ff02::1]/x",
		"http://255.255.255.255/x",
		"http://[::ffff:127.0.0.1]:8080/x",
		"http://[::ffff:169.254.169.254]/x",
		"http://[::ffff:a9fe:a9fe]/x",
	} {
		if status, body := put(u); status != http.StatusBadRequest || !strings.Contains(string(body), "callbacks") {
			t.Errorf("callback %s: %d %s; want 400 naming callbacks", u, status, clip(body))
		}
	}
	for _, u := range []string{"http://[::1]:8080/x", "https://[2001:db8::1]/dci", "http://127.0.0.1:8080/x", "https://10.1.2.3/dci"} {
		if status, body := put(u); status != http.StatusOK {
			t.Errorf("callback %s: %d %s; want 200 (README: IPv6 literals in brackets are accepted)", u, status, clip(body))
		}
	}
}
