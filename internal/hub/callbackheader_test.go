package hub_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/dci/dcitest"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// registrySpecs are the DCI documents of the five registries, by path segment.
var registrySpecs = map[string]string{"crvs": "crvs_api_v1.0.0.yaml", "sr": "social_api_v1.0.0.yaml",
	"ibr": "ibr_api_v1.0.0.yaml", "dr": "dr_api_v1.0.0.yaml", "fr": "fr_api_v1.0.0.yaml"}

// TestCallbackHeaders: the header of every callback the hub sends (on-search,
// on-subscribe, on-unsubscribe, txn/on-status for a call to each registry, and notify) is
// valid against the callback's header schema in every registry's document that has the
// callback: a partner may take the header of one registry's callback with the schema of
// another (the FR document's on-subscribe wants a callback header, with status; the
// others' a request header, with sender_id and total_count).
func TestCallbackHeaders(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	rc := &receiver{arrived: make(chan struct{}, 64)}
	partner := httptest.NewServer(rc)
	defer partner.Close()
	inst := synth.HealthInsurer1
	r.setCallbacks(t, inst, []string{partner.URL + "/"})
	token := r.tokenWithScope(t, inst, "registry.search registry.subscribe registry.txn_status")
	type callback struct {
		what, path string // path: the callback's path in the documents
		body       []byte
	}
	var got []callback
	for _, reg := range []string{"crvs", "sr", "ibr", "dr", "fr"} {
		base := r.url + "/dci/" + reg + "/registry/"
		calls := []struct{ endpoint, path, body string }{
			{"search", "/registry/on-search", asyncSearch("cs-"+reg, "ct-"+reg, partner.URL+"/on-search", synth.FixtureNumber)},
			{"subscribe", "/registry/on-subscribe", subscribeBody("csub-"+reg, partner.URL+"/on-subscribe", "death")},
			{"unsubscribe", "/registry/on-unsubscribe", unsubscribeBody("cuns-"+reg, partner.URL+"/on-unsubscribe", "sub-none")},
			{"txn/status", "/registry/txn/on-status", txnStatusBody("cst-"+reg, partner.URL+"/txn/on-status", dci.AttrTransactionID, "ct-"+reg)},
		}
		for _, c := range calls {
			status, ack := post(t, base+c.endpoint, token, c.body)
			if s, _ := correlationOf(t, ack); status != http.StatusAccepted || s != dci.AckOK {
				t.Fatalf("%s %s: %d %s", reg, c.endpoint, status, ack)
			}
			got = append(got, callback{reg + " " + c.endpoint, c.path, rc.next(t)})
		}
	}

	// A change of address pushed to the health insurer's subscription.
	inboxes := inboxesFor(t, r, []string{"address"}, inst)
	mover := fileHolder(t, r, inst, "", 3, nil)
	p, err := r.st.Civil.Population().Person(ctx, mover)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf(`{"street":"Header Street","house_number":"3","postal_code":"9999","municipality":%q,"region":%q}`, p.Address.Municipality, p.Address.Region)
	if status, b := post(t, r.url+"/admin/civil/events", r.admin, `{"type":"address","person":"`+mover+`","date":"`+r.st.Directory.Today().String()+`","address":`+addr+`}`); status != 201 {
		t.Fatalf("a move: %d %s", status, b)
	}
	ev := inboxes[inst].waitForEvent(mover, "address", 10*time.Second)
	if ev == nil {
		t.Fatalf("the move of %s was not pushed", mover)
	}
	got = append(got, callback{"notify", "/registry/notify", []byte(ev.message)})

	if !dcitest.Present(t) {
		return // the callbacks were sent and received; only their comparison needs the documents
	}
	for _, cb := range got {
		for reg, spec := range registrySpecs {
			if dcitest.Load(t, spec).Paths.Value(cb.path) == nil {
				continue // DR has no transaction status
			}
			if err := dcitest.CallbackHeaderError(t, dcitest.Spec(t, spec), cb.path, cb.body); err != nil {
				t.Errorf("%s: the header of %s is not valid against the %s document: %v\nbody: %.600s", cb.what, cb.path, reg, err, cb.body)
			}
		}
	}
}
