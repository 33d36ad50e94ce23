package g2p

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bank"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// testHub answers from records in memory, as the hub would for the programme: only
// about persons it opened a file on, and only the fields asked. The real exchange is
// driven by the end-to-end test in internal/hub.
type testHub struct {
	mu       sync.Mutex
	records  map[string]map[string]map[string]any // service → person → record
	files    map[string]bool
	actions  []Action
	searches []Identity
	asks     int
	seq      int64
	meet     *sync.WaitGroup
	onAsk    func() // run once, at the next question, outside the lock
	recorded map[int64]Action
}

func newTestHub() *testHub {
	return &testHub{records: map[string]map[string]map[string]any{"civil-person": {}, "social-member": {}, "beneficiary-enrolment": {}}, files: map[string]bool{}}
}

func (h *testHub) person(p, given, family string, birth date.Date, income, pension float64) {
	h.records["civil-person"][p] = map[string]any{"person": p, "given_name": given, "family_name": family, "birth_date": birth.String()}
	h.records["social-member"][p] = map[string]any{"person": p, "household": map[string]any{"region": "R01", "monthly_income": income}}
	progs := []any{}
	if pension >= 0 {
		progs = append(progs, map[string]any{"programme": "old-age-pension", "status": "active", "monthly_amount": pension})
	}
	h.records["beneficiary-enrolment"][p] = map[string]any{"person": p, "programmes": progs}
}

func (h *testHub) Ask(_ context.Context, q Question, p string) (map[string]any, int64, error) {
	h.mu.Lock()
	hook := h.onAsk
	h.onAsk = nil
	h.mu.Unlock()
	if hook != nil {
		hook()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	h.asks++
	if !h.files[p] {
		return nil, h.seq, fault.Forbiddenf("no file on %s", p)
	}
	r, ok := h.records[q.Service][p]
	if !ok {
		return nil, h.seq, nil
	}
	out := map[string]any{}
	for _, f := range append(q.Fields, "person") {
		if v, ok := r[f]; ok {
			out[f] = v
		}
		if f == "household.region" || f == "household.monthly_income" {
			out["household"] = r["household"]
		}
	}
	return out, h.seq, nil
}

func (h *testHub) Deceased(_ context.Context, q Question, since date.Date) (map[string]date.Date, []int64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	out := map[string]date.Date{}
	for p, r := range h.records["civil-person"] {
		if d, err := date.Parse(str(r["death_date"])); err == nil && d >= since && h.files[p] {
			out[p] = d
		}
	}
	return out, []int64{h.seq}, nil
}

func (h *testHub) Record(_ context.Context, a Action) (int64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	h.actions = append(h.actions, a)
	if h.recorded == nil {
		h.recorded = map[int64]Action{}
	}
	h.recorded[h.seq] = a
	return h.seq, nil
}

func (h *testHub) OpenFiles(_ context.Context, ps []string, _ date.Date) error {
	if h.meet != nil { // the registrations of a race meet here, past their first check
		h.meet.Done()
		h.meet.Wait()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range ps {
		h.files[p] = true
	}
	return nil
}

// Identify searches the register as the civil register's filter does: exact equality,
// the names' readings or-ed, at most IdentifyPage records, no file needed.
func (h *testHub) Identify(_ context.Context, q Question, id Identity) ([]map[string]any, int64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	h.searches = append(h.searches, id)
	var out []map[string]any
	for _, p := range slices.Sorted(maps.Keys(h.records["civil-person"])) {
		r := h.records["civil-person"][p]
		if str(r["birth_date"]) != id.BirthDate.String() {
			continue
		}
		for _, n := range id.Names {
			if str(r["given_name"]) == n.Given && str(r["family_name"]) == n.Family && len(out) < IdentifyPage {
				out = append(out, r)
				break
			}
		}
	}
	return out, h.seq, nil
}

func (h *testHub) CloseFiles(_ context.Context, ps []string, _ date.Date) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range ps {
		delete(h.files, p)
	}
	return nil
}

func (h *testHub) die(p string, d date.Date) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records["civil-person"][p]["death_date"] = d.String()
}

// fixture is a programme with a demo bank and persons:
//   - 50030100170 Maria Peeters, 1950, no pension, low income: eligible
//   - 50030200338 Jan Claes, 1950, closed account
//   - 65010100576 Young Person, 1960: too young
//   - 50010100750 Rich Person, 1950: pension
//   - 51010100969 Anna Wouters, 1951, eligible, no account at the bank
type fixture struct {
	s      *Service
	hub    *testHub
	bank   *bank.Demo
	outbox *Outbox
	clock  *time.Time
}

var start = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{hub: newTestHub(), outbox: &Outbox{}}
	now := start
	f.clock = &now
	clock := func() time.Time { return *f.clock }
	f.bank = &bank.Demo{Store: bank.NewMemStore(), Now: func() date.Date { return date.FromTime(clock()) }}
	p, err := OldAgeAllowance("SP-MIS", bank.ProgrammeAccount())
	if err != nil {
		t.Fatal(err)
	}
	f.s = &Service{Programme: p, Store: NewMemStore(), Hub: f.hub, Bank: f.bank, BankCode: "demo-bank", Sender: f.outbox, Now: clock}
	add := func(person, given, family string, birth date.Date, income, pension float64, account, closed bool) {
		f.hub.person(person, given, family, birth, income, pension)
		if account {
			a, _ := bank.DemoAccount(person)
			f.bank.Store.PutAccounts(context.Background(), []bank.Account{{IBAN: a, Holder: given + " " + family, Person: person, BirthDate: birth, Closed: closed}})
		}
	}
	add("50030100170", "Maria", "Peeters", 19500301, 800, 0, true, false)
	add("50030200338", "Jan", "Claes", 19500302, 800, 0, true, true)
	add("65010100576", "Young", "Person", 19650101, 800, 0, true, false)
	add("50010100750", "Rich", "Person", 19500101, 3000, 1500, true, false)
	add("51010100969", "Anna", "Wouters", 19510101, 500, -1, false, false)
	return f
}

func (f *fixture) account(p string) string {
	a, _ := bank.DemoAccount(p)
	return string(a)
}

// code reads the last code sent to number from the outbox.
func (f *fixture) code(t testing.TB, number string) string {
	t.Helper()
	ms := f.outbox.To(number)
	if len(ms) == 0 {
		t.Fatalf("no SMS to %s", number)
	}
	text := ms[len(ms)-1].Text
	for i := 0; i+6 <= len(text); i++ {
		if isDigits(text[i : i+6]) {
			return text[i : i+6]
		}
	}
	t.Fatalf("no code in %q", text)
	return ""
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// register runs a registration through with the right code.
func (f *fixture) register(t testing.TB, person, account string) Registration {
	t.Helper()
	ctx := context.Background()
	r, err := f.s.Start(ctx, Application{Person: person, Mobile: Mobile(person), Account: account})
	if err != nil {
		t.Fatalf("Start(%s): %v", person, err)
	}
	r, err = f.s.Confirm(ctx, r.ID, f.code(t, Mobile(person)))
	if err != nil {
		t.Fatalf("Confirm(%s): %v", person, err)
	}
	return r
}
