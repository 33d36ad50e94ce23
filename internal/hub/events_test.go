package hub_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci/dcitest"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/synth"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// inbox is a subscriber's notify endpoint.
type inbox struct {
	url    string // where it is served, when set
	mu     sync.Mutex
	auth   []string // the Authorization headers
	got    []string // the notify messages
	keys   []string // the copies' keys (reference_id), one per event, in order of arrival
	events []notified
}

func (b *inbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	evs := notifyEvents(body)
	b.mu.Lock()
	b.auth = append(b.auth, r.Header.Get("Authorization"))
	b.got = append(b.got, string(body))
	for _, ev := range evs {
		b.keys = append(b.keys, ev.Key)
	}
	b.events = append(b.events, evs...)
	b.mu.Unlock()
}

// notified is one event of a notify message: one copy of a change.
type notified struct {
	Key    string // its reference_id: the copy's idempotency key
	Person string
	Raw    string // the event as sent
	Of     int    // how many events the message held
}

// notifyEvents splits a DCI notify message into its events, in order.
func notifyEvents(body []byte) []notified {
	var env struct {
		Message struct {
			NotifyEvent []json.RawMessage `json:"notify_event"`
		} `json:"message"`
	}
	if json.Unmarshal(body, &env) != nil {
		return nil
	}
	out := make([]notified, 0, len(env.Message.NotifyEvent))
	for _, raw := range env.Message.NotifyEvent {
		var ev struct {
			ReferenceID string `json:"reference_id"`
			Data        struct {
				RegRecords []struct {
					Person string `json:"person"`
				} `json:"reg_records"`
			} `json:"data"`
		}
		_ = json.Unmarshal(raw, &ev)
		n := notified{Key: ev.ReferenceID, Raw: string(raw), Of: len(env.Message.NotifyEvent)}
		if len(ev.Data.RegRecords) > 0 {
			n.Person = ev.Data.RegRecords[0].Person
		}
		out = append(out, n)
	}
	return out
}

// waitFor returns the first message holding want, within d, or "".
func (b *inbox) waitFor(want string, d time.Duration) string {
	var found string
	_ = testwait.Until(d, func() error {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, m := range b.got {
			if strings.Contains(m, want) {
				found = m
				return nil
			}
		}
		return errNotYet
	})
	return found
}

// errNotYet is a condition's answer when the caller says itself what it awaited.
var errNotYet = errors.New("not yet")

// TestMutationScenario is issue #5's scenario: a death reaches the pension fund and the
// health insurer that have the person's file, and the child-benefit fund only when the
// person is in its files; a museum that subscribed, with no file and no authorization,
// hears nothing; a birth reaches the child-benefit fund of the parents.
func TestMutationScenario(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	d := r.st.Directory
	today := d.Today()
	files := func(p string) map[string]string {
		out := map[string]string{}
		gs, err := d.Store().Files(ctx, p, today)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs {
			out[g.Institution] = g.Capacity
		}
		return out
	}
	// A pensioner insured by HEALTH-INSURER-1, and a parent receiving child benefit.
	var pensioner, parent, fund string
	page, err := d.Store().Integrations(ctx, directory.IntegrationQuery{Institution: synth.PensionFund, Day: today, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range page {
		if f := files(g.Person); f[synth.HealthInsurer1] != "" && !hasPrefixKey(f, synth.ChildBenefitPrefix) {
			pensioner = g.Person
			break
		}
	}
	for _, inst := range []string{synth.ChildBenefitPrefix + "NORTH", synth.ChildBenefitPrefix + "SOUTH", synth.ChildBenefitPrefix + "EAST", synth.ChildBenefitPrefix + "WEST"} {
		gs, _ := d.Store().Integrations(ctx, directory.IntegrationQuery{Institution: inst, Day: today, Limit: 1000})
		for _, g := range gs {
			if g.Capacity == synth.CapacityParent {
				parent, fund = g.Person, inst
				break
			}
		}
		if parent != "" {
			break
		}
	}
	if pensioner == "" || parent == "" {
		t.Fatalf("no pensioner (%q) or parent (%q) in the test nation", pensioner, parent)
	}
	inboxes := inboxesFor(t, r, []string{"death", "birth"}, synth.PensionFund, synth.HealthInsurer1, fund, synth.Museum)

	pop := r.st.Civil.Population()
	if _, err := pop.Record(ctx, population.Event{Type: population.EventDeath, Person: pensioner, Date: today},
		func(p *population.Person) error { p.DeathDate = today; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, inst := range []string{synth.PensionFund, synth.HealthInsurer1} {
		m := inboxes[inst].waitFor(pensioner, 10*time.Second)
		if m == "" {
			t.Fatalf("%s was not notified of the death of %s", inst, pensioner)
		}
		// Only the fields of the institution's authorization: never nationality or household.
		if !strings.Contains(m, `"notify"`) || !strings.Contains(m, `"death_date"`) || strings.Contains(m, `"nationality"`) || strings.Contains(m, `"household"`) ||
			(inst == synth.HealthInsurer1 && strings.Contains(m, `"marital_status"`)) {
			t.Errorf("%s's notify: %s", inst, m)
		}
		checkHubSignature(t, r.url, []byte(m))
		validateNotify(t, []byte(m))
		inboxes[inst].mu.Lock()
		auth := inboxes[inst].auth[len(inboxes[inst].auth)-1]
		inboxes[inst].mu.Unlock()
		checkPushToken(t, r.url, auth, inst)
	}
	for _, inst := range []string{fund, synth.Museum} {
		if m := inboxes[inst].waitFor(pensioner, 500*time.Millisecond); m != "" {
			t.Errorf("%s, without the person in its files, was notified: %s", inst, m)
		}
	}

	// A birth, declared to the civil register: the child is new; the fund holds the
	// mother's file as a parent.
	status, body := post(t, r.url+"/admin/civil/births", r.admin, `{"date":"`+today.String()+`","given_name":"New","family_name":"Born","sex":"female","mother":"`+parent+`"}`)
	var born population.Event
	if status != 201 || json.Unmarshal(body, &born) != nil || born.Type != population.EventBirth {
		t.Fatalf("declare a birth: %d %s", status, body)
	}
	child, err := pop.Person(ctx, born.Person)
	if err != nil || child.Mother != parent || child.BirthDate != today || !strings.HasPrefix(child.BRN, "BRN-") {
		t.Fatalf("the child in the register: %+v, %v", child, err)
	}
	if m := inboxes[fund].waitFor(child.Number, 10*time.Second); m == "" {
		t.Errorf("%s was not notified of the birth of a child of %s", fund, parent)
	}
	if m := inboxes[synth.Museum].waitFor(child.Number, 300*time.Millisecond); m != "" {
		t.Errorf("the museum was notified: %s", m)
	}
	b := inboxes[synth.PensionFund]
	b.mu.Lock()
	deathKey := ""
	for _, ev := range b.events {
		if ev.Person == pensioner && strings.Contains(ev.Raw, `"death"`) {
			deathKey = ev.Key
		}
	}
	b.mu.Unlock()
	if !strings.HasPrefix(deathKey, "civil:") {
		t.Fatalf("the death's delivery carries no idempotency key: %q", deathKey)
	}
	// The status of every copy of the death, per subscriber.
	death, _, _ := strings.Cut(deathKey, "/")
	deliveries := getAdmin(t, r, "/admin/events/deliveries?id="+death)
	for _, inst := range []string{synth.PensionFund, synth.HealthInsurer1} {
		if !strings.Contains(deliveries, `"subscription": "sub-`+strings.ToLower(inst)+`"`) || !strings.Contains(deliveries, `"state": "delivered"`) {
			t.Errorf("delivery status of %s lacks %s's delivered copy: %s", death, inst, deliveries)
		}
	}
}

func hasPrefixKey(m map[string]string, prefix string) bool {
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// TestDeliveryGuarantees: a subscriber that answers slowly does not hold up another; one
// that is down receives, once back, every change it missed, each person's in order.
func TestDeliveryGuarantees(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	d := r.st.Directory
	today := d.Today()
	slow := &slowInbox{delay: 3 * time.Second}
	down := &flakyInbox{down: true}
	slowSrv, downSrv := httptest.NewServer(slow), httptest.NewServer(down)
	defer slowSrv.Close()
	defer downSrv.Close()
	// HEALTH-INSURER-1 answers slowly; PENSION-FUND is down at first.
	for inst, url := range map[string]string{synth.HealthInsurer1: slowSrv.URL, synth.PensionFund: downSrv.URL} {
		sub, _, err := directory.Get[directory.Subscription](ctx, d, "sub-"+strings.ToLower(inst))
		if err != nil {
			t.Fatal(err)
		}
		sub.Endpoint, sub.Status = url+"/notify", ""
		if !slices.Contains(sub.EventTypes, "address") {
			sub.EventTypes = append(sub.EventTypes, "address")
		}
		if _, _, err := directory.Put(ctx, d, "test", sub, directory.AnyVersion); err != nil {
			t.Fatal(err)
		}
		waitPushing(t, r, sub.ID, sub.Endpoint)
	}
	// Pensioners insured by HEALTH-INSURER-1: both subscribers hear of their moves.
	var persons []string
	page, _ := d.Store().Integrations(ctx, directory.IntegrationQuery{Institution: synth.PensionFund, Day: today, Limit: 1000})
	for _, g := range page {
		gs, _ := d.Store().Files(ctx, g.Person, today)
		if slices.ContainsFunc(gs, func(f directory.Integration) bool { return f.Institution == synth.HealthInsurer1 }) {
			persons = append(persons, g.Person)
		}
		if len(persons) == 3 {
			break
		}
	}
	if len(persons) < 3 {
		t.Fatalf("found %d pensioners insured by %s", len(persons), synth.HealthInsurer1)
	}
	pop := r.st.Civil.Population()
	for round := 1; round <= 3; round++ {
		for _, p := range persons {
			if _, err := pop.Record(ctx, population.Event{Type: population.EventAddress, Person: p, Date: today},
				func(pp *population.Person) error { pp.Address.HouseNumber = "R" + string(rune('0'+round)); return nil }); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The slow subscriber holds one batch per lane for 3 s; the down one refuses, and is
	// retried. Bring the down one back: it must receive all nine, each person's three in
	// order.
	testwait.For(t, 10*time.Second, testwait.True("the slow subscriber called and the down one refusing", func() bool {
		down.mu.Lock()
		defer down.mu.Unlock()
		return slow.started.Load() > 0 && down.refused > 0
	}))
	down.setDown(false)
	// A lane waits up to 12 s + a quarter of jitter before it tries again (events'
	// back-off), and more on a loaded machine: wait well beyond that.
	testwait.For(t, 45*time.Second, func() error {
		if n := down.count(); n < 9 {
			return fmt.Errorf("the subscriber that came back received %d of 9 changes", n)
		}
		return nil
	})
	for _, p := range persons {
		var seen []string
		for _, m := range down.bodies() {
			if strings.Contains(m, p) {
				i := strings.Index(m, `"house_number":"R`)
				seen = append(seen, m[i+17:i+19])
			}
		}
		if !slices.IsSorted(seen) || len(seen) < 3 {
			t.Errorf("person %s's changes arrived as %v; want R1, R2, R3 in order", p, seen)
		}
	}
}

// TestBatchesInOrder: many changes about the same persons reach a subscriber in
// batches (several events in one notify, valid against the standard and signed), each
// person's in order; a subscriber that fails for a while and comes back receives every
// copy it missed, each person's still in order.
func TestBatchesInOrder(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	d := r.st.Directory
	today := d.Today()
	f := &flakyInbox{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	sub := pushTo(t, r, synth.PensionFund, srv.URL+"/notify")
	var persons []string
	page, _ := d.Store().Integrations(ctx, directory.IntegrationQuery{Institution: synth.PensionFund, Day: today, Limit: 1000})
	for _, g := range page {
		if g.Capacity == synth.CapacityPensioner && !slices.Contains(persons, g.Person) {
			persons = append(persons, g.Person)
		}
		if len(persons) == 6 {
			break
		}
	}
	if len(persons) < 6 {
		t.Fatalf("found %d pensioners", len(persons))
	}
	pop := r.st.Civil.Population()
	var want []string // the copies' keys, in the order of the changes
	record := func(n int) {
		for i := range n {
			p := persons[i%len(persons)]
			ev, err := pop.Record(ctx, population.Event{Type: population.EventAddress, Person: p, Date: today},
				func(pp *population.Person) error { pp.Address.HouseNumber = "B" + strconv.Itoa(len(want)); return nil })
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, "civil:"+strconv.FormatInt(ev.Seq, 10)+"/"+sub.ID)
		}
	}
	// all waits until every copy recorded so far arrived, and checks each person's order.
	all := func(within time.Duration) {
		t.Helper()
		rank := map[string]int{}
		for i, k := range want {
			rank[k] = i
		}
		var got []notified
		testwait.For(t, within, func() error {
			got = f.events()
			seen := map[string]bool{}
			for _, ev := range got {
				seen[ev.Key] = true
			}
			if missing := slices.DeleteFunc(slices.Clone(want), func(k string) bool { return seen[k] }); len(missing) > 0 {
				return fmt.Errorf("%d of %d copies not received, e.g. %s", len(missing), len(want), missing[0])
			}
			return nil
		})
		last, seen := map[string]int{}, map[string]bool{}
		for _, ev := range got {
			i, ok := rank[ev.Key]
			if !ok || seen[ev.Key] { // a change of before, or a repeat
				continue
			}
			seen[ev.Key] = true
			if j, ok := last[ev.Person]; ok && i < j {
				t.Errorf("person %s: %s arrived after %s", ev.Person, ev.Key, want[j])
			}
			last[ev.Person] = i
		}
	}
	record(120)
	all(30 * time.Second) // generous: the wait ends as soon as all arrived; a loaded machine is slow

	// Down until it has refused a batch: the lanes keep their failed batch and send it
	// again; the copies recorded meanwhile follow it, in batches.
	f.setDown(true)
	record(120)
	var refused int
	testwait.For(t, 10*time.Second, testwait.True("the subscriber, down, to refuse a batch", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		refused = f.refused
		return refused > 0
	}))
	f.setDown(false)
	all(30 * time.Second) // generous: the wait ends as soon as all arrived; a loaded machine is slow
	var batch string
	f.mu.Lock()
	messages := slices.Clone(f.messages)
	f.mu.Unlock()
	for _, ev := range f.events() {
		if ev.Of > 1 && slices.Contains(want, ev.Key) {
			for _, m := range messages {
				if strings.Contains(m, `"reference_id":"`+ev.Key+`"`) {
					batch = m
				}
			}
			break
		}
	}
	if batch == "" {
		t.Fatal("every notify held one event: no batches")
	}
	t.Logf("%d copies in %d notify messages; %d refused while down", len(f.events()), len(messages), refused)
	validateNotify(t, []byte(batch))
	checkHubSignature(t, r.url, []byte(batch))
}

// validateNotify checks a notify message the hub pushed against the CRVS document. The
// document types an event's data.reg_records as one object, where the hub sends, as in
// every search answer, a list (of one record): each list is checked as its record, the
// rest of the message as sent (dcitest folds txn_status answers the same way).
func validateNotify(t *testing.T, body []byte) {
	t.Helper()
	validateNotifyAgainst(t, "crvs_api_v1.0.0.yaml", body)
}

// validateNotifyAgainst validates a notify against the registry's DCI document.
func validateNotifyAgainst(t *testing.T, spec string, body []byte) {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	msg, _ := v["message"].(map[string]any)
	evs, _ := msg["notify_event"].([]any)
	if len(evs) == 0 {
		t.Fatalf("a notify without events: %s", body)
	}
	for _, ev := range evs {
		data, _ := ev.(map[string]any)["data"].(map[string]any)
		if list, ok := data["reg_records"].([]any); !ok || len(list) != 1 {
			t.Errorf("an event's reg_records: %v; want a list of one record", data["reg_records"])
		} else {
			data["reg_records"] = list[0]
		}
	}
	folded, _ := json.Marshal(v)
	dcitest.ValidateRequest(t, dcitest.Spec(t, spec), "/registry/notify", folded)
}

// slowInbox takes its time with every delivery.
type slowInbox struct {
	delay   time.Duration
	started atomic.Int64
}

func (s *slowInbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.started.Add(1)
	time.Sleep(s.delay) // the slowness is what is tested: nothing to wait for
}

// flakyInbox refuses everything while down.
type flakyInbox struct {
	mu       sync.Mutex
	down     bool
	refused  int
	messages []string   // the notify messages taken
	got      []notified // their events, in order
}

func (f *flakyInbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		f.refused++
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	f.messages = append(f.messages, string(body))
	f.got = append(f.got, notifyEvents(body)...)
}

func (f *flakyInbox) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

// count is how many copies (events) it took.
func (f *flakyInbox) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.got)
}

// bodies are the events it took, as sent.
func (f *flakyInbox) bodies() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.got))
	for i, ev := range f.got {
		out[i] = ev.Raw
	}
	return out
}

func (f *flakyInbox) events() []notified {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

// TestEventsTail: operators see every outcome as it happens, the backlog of each push
// subscription, and a counter per state in the metrics.
func TestEventsTail(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d := r.st.Directory
	today := d.Today()
	b := &inbox{}
	srv := httptest.NewServer(b)
	defer srv.Close()
	sub := pushTo(t, r, synth.HealthInsurer1, srv.URL+"/notify")
	req, _ := http.NewRequestWithContext(ctx, "GET", r.url+"/admin/events/tail", nil)
	req.Header.Set("Authorization", "Bearer "+r.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("tail: %v %v", resp, err)
	}
	defer resp.Body.Close()
	page, _ := d.Store().Integrations(ctx, directory.IntegrationQuery{Institution: synth.HealthInsurer1, Day: today, Limit: 1})
	if _, err := r.st.Civil.Population().Record(ctx, population.Event{Type: population.EventAddress, Person: page[0].Person, Date: today},
		func(p *population.Person) error { p.Address.HouseNumber = "T1"; return nil }); err != nil {
		t.Fatal(err)
	}
	states := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	for !(states["routed"] && states["delivered"]) && sc.Scan() {
		var o struct{ State, Subscription string }
		if json.Unmarshal(sc.Bytes(), &o) == nil && o.Subscription == sub.ID {
			states[o.State] = true
		}
	}
	if !states["routed"] || !states["delivered"] {
		t.Errorf("the tail showed %v; want routed and delivered", states)
	}
	status := getAdmin(t, r, "/admin/events")
	if !strings.Contains(status, `"subscription": "`+sub.ID+`"`) || !strings.Contains(status, `"delivered"`) {
		t.Errorf("events status: %s", status)
	}
	m, err := http.Get(r.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Body.Close()
	metrics, _ := io.ReadAll(m.Body)
	if !strings.Contains(string(metrics), `crossroads_mutation_outcomes_total{state="delivered"}`) {
		t.Error("the metrics have no counter of delivered copies")
	}
}

func getAdmin(t *testing.T, r *running, path string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", r.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+r.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestDeadLetters: a change a subscriber keeps refusing past the maximum age is set
// aside, visible to operators, and sent again on request, with its idempotency key.
func TestDeadLetters(t *testing.T) {
	t.Parallel()
	r := startHubWith(t, func(c *hub.Config) { c.DeliveryMaxAge = time.Second })
	ctx := context.Background()
	d := r.st.Directory
	today := d.Today()
	down := &flakyInbox{down: true}
	srv := httptest.NewServer(down)
	defer srv.Close()
	sub := pushTo(t, r, synth.HealthInsurer1, srv.URL+"/notify")
	page, _ := d.Store().Integrations(ctx, directory.IntegrationQuery{Institution: synth.HealthInsurer1, Day: today, Limit: 1})
	ev, err := r.st.Civil.Population().Record(ctx, population.Event{Type: population.EventAddress, Person: page[0].Person, Date: today},
		func(p *population.Person) error { p.Address.HouseNumber = "D1"; return nil })
	if err != nil {
		t.Fatal(err)
	}
	key := "civil:" + strconv.FormatInt(ev.Seq, 10) + "/" + sub.ID
	testwait.For(t, 15*time.Second, func() error {
		if dead := getAdmin(t, r, "/admin/events/dead?subscription="+sub.ID); !strings.Contains(dead, key) || !strings.Contains(dead, "503") {
			return fmt.Errorf("%s set aside with its 503: %s", key, dead)
		}
		return nil
	})
	down.mu.Lock()
	down.down = false
	down.mu.Unlock()
	req, _ := http.NewRequest("POST", r.url+"/admin/events/dead/"+sub.ID+"/retry", nil)
	req.Header.Set("Authorization", "Bearer "+r.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var sent struct {
		SentAgain int `json:"sent_again"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &sent) != nil || sent.SentAgain != 1 {
		t.Fatalf("retry: %d %s", resp.StatusCode, body)
	}
	testwait.For(t, 10*time.Second, func() error {
		if !slices.ContainsFunc(down.bodies(), func(b string) bool { return strings.Contains(b, key) }) {
			return fmt.Errorf("%s delivered after the retry (%d received)", key, down.count())
		}
		return nil
	})
	if rest := getAdmin(t, r, "/admin/events/dead?subscription="+sub.ID); strings.Contains(rest, key) {
		t.Errorf("still set aside after the retry: %s", rest)
	}
}

// TestPullDelivery: a pull subscriber fetches its next changes and acknowledges them;
// what it acknowledged is not offered again; another institution cannot read them.
func TestPullDelivery(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	d := r.st.Directory
	today := d.Today()
	subID := "sub-" + strings.ToLower(synth.HealthInsurer3)
	sub, _, err := directory.Get[directory.Subscription](ctx, d, subID)
	if err != nil || sub.Mode != directory.ModePull {
		t.Fatalf("%s: %+v %v; want a pull subscription", subID, sub, err)
	}
	token := r.tokenWithScope(t, synth.HealthInsurer3, "registry.subscribe")
	next := func(tok string) (int, []string) {
		req, _ := http.NewRequest("GET", r.url+"/events/"+subID+"/next?max=50&wait=1s", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Events []struct{ Key, Person string }
		}
		json.NewDecoder(resp.Body).Decode(&out)
		var keys []string
		for _, e := range out.Events {
			keys = append(keys, e.Key)
		}
		return resp.StatusCode, keys
	}
	page, _ := d.Store().Integrations(ctx, directory.IntegrationQuery{Institution: synth.HealthInsurer3, Day: today, Limit: 1})
	ev, err := r.st.Civil.Population().Record(ctx, population.Event{Type: population.EventAddress, Person: page[0].Person, Date: today},
		func(p *population.Person) error { p.Address.HouseNumber = "P1"; return nil })
	if err != nil {
		t.Fatal(err)
	}
	key := "civil:" + strconv.FormatInt(ev.Seq, 10) + "/" + subID
	var keys []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !slices.Contains(keys, key); {
		_, got := next(token)
		keys = append(keys, got...)
	}
	if !slices.Contains(keys, key) {
		t.Fatalf("the change %s was not offered: %v", key, keys)
	}
	if status, _ := next(r.tokenWithScope(t, synth.HealthInsurer1, "registry.subscribe")); status != http.StatusNotFound {
		t.Errorf("another institution pulling %s: %d; want 404", subID, status)
	}
	body, _ := json.Marshal(map[string]any{"keys": keys})
	req, _ := http.NewRequest("POST", r.url+"/events/"+subID+"/ack", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ack, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(ack), `"acknowledged"`) {
		t.Fatalf("ack: %d %s", resp.StatusCode, ack)
	}
	if _, again := next(token); slices.Contains(again, key) {
		t.Errorf("an acknowledged change was offered again")
	}
}

// pushTo points institution's subscription at url, adds changes of address to what it
// hears of, and waits for the hub to push to it.
func pushTo(t *testing.T, r *running, institution, url string) directory.Subscription {
	t.Helper()
	ctx := context.Background()
	sub, _, err := directory.Get[directory.Subscription](ctx, r.st.Directory, "sub-"+strings.ToLower(institution))
	if err != nil {
		t.Fatal(err)
	}
	sub.Endpoint, sub.Status = url, ""
	if !slices.Contains(sub.EventTypes, "address") {
		sub.EventTypes = append(sub.EventTypes, "address")
	}
	if _, _, err := directory.Put(ctx, r.st.Directory, "test", sub, directory.AnyVersion); err != nil {
		t.Fatal(err)
	}
	waitPushing(t, r, sub.ID, url)
	return sub
}

// waitPushing waits until the hub pushes subscription id's copies to endpoint: it reloads
// the subscriptions every second, then runs the delivery lanes of each push one (GET
// /admin/events lists them). The router has then the subscription as it was read.
func waitPushing(t *testing.T, r *running, id, endpoint string) {
	t.Helper()
	testwait.For(t, 10*time.Second, func() error {
		var st struct {
			Subscriptions []struct{ Subscription, Endpoint string }
		}
		body := getAdmin(t, r, "/admin/events")
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			return fmt.Errorf("GET /admin/events: %v: %s", err, body)
		}
		for _, s := range st.Subscriptions {
			if s.Subscription == id && s.Endpoint == endpoint {
				return nil
			}
		}
		return fmt.Errorf("the hub to push %s to %s: %s", id, endpoint, body)
	})
}

// TestMovesPushedAsTheyWere: five successive moves of a person, recorded before the
// router takes the first, reach the subscriber as five copies in order, each with the
// address of its own move, not the last one's (issue #16).
func TestMovesPushedAsTheyWere(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	d := r.st.Directory
	b := &inbox{}
	srv := httptest.NewServer(b)
	defer srv.Close()
	sub := pushTo(t, r, synth.PensionFund, srv.URL+"/notify")
	page, err := d.Store().Integrations(ctx, directory.IntegrationQuery{Institution: synth.PensionFund, Day: d.Today(), Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var mover population.Person
	for _, g := range page {
		if p, err := r.st.Civil.Population().Person(ctx, g.Person); err == nil && p.DeathDate.IsZero() && g.Capacity == synth.CapacityPensioner {
			mover = p
			break
		}
	}
	if mover.Number == "" {
		t.Fatal("no living pensioner")
	}
	var want, keys []string
	for i := 1; i <= 5; i++ {
		street := fmt.Sprintf("Street %d (%d)", i, time.Now().UnixNano()) // another run on this nation moves it again
		body := fmt.Sprintf(`{"type":"address","person":%q,"date":%q,"address":{"street":%q,"house_number":"1","postal_code":"1000","municipality":%q,"region":%q}}`,
			mover.Number, d.Today(), street, mover.Address.Municipality, mover.Address.Region)
		status, answer := post(t, r.url+"/admin/civil/events", r.admin, body)
		var ev population.Event
		if status != 201 || json.Unmarshal(answer, &ev) != nil {
			t.Fatalf("move %d: %d %s", i, status, answer)
		}
		want, keys = append(want, street), append(keys, "civil:"+strconv.FormatInt(ev.Seq, 10)+"/"+sub.ID)
	}
	var got []string // the street of each move's copy, in the order they arrived
	testwait.For(t, 20*time.Second, func() error {
		got = got[:0]
		seen := map[string]bool{} // a copy sent again is one move
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, ev := range b.events {
			if !slices.Contains(keys, ev.Key) || seen[ev.Key] {
				continue
			}
			seen[ev.Key] = true
			var e struct {
				Data struct {
					RegRecords []struct {
						Address struct{ Street string } `json:"address"`
					} `json:"reg_records"`
				} `json:"data"`
			}
			if err := json.Unmarshal([]byte(ev.Raw), &e); err != nil || len(e.Data.RegRecords) != 1 {
				return fmt.Errorf("copy %s: %v: %s", ev.Key, err, ev.Raw)
			}
			got = append(got, e.Data.RegRecords[0].Address.Street)
		}
		if len(got) < len(keys) {
			return fmt.Errorf("%d of the %d moves received", len(got), len(keys))
		}
		return nil
	})
	if !slices.Equal(got, want) {
		t.Errorf("the subscriber saw the addresses %q; want %q, in order", got, want)
	}
}
