package g2p

import (
	"context"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// TestRegisterByName: an applicant without a person number is found in the civil
// register through the hub by full name and birth date; exactly one living match
// proceeds to the code and the checks.
func TestRegisterByName(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, name := range []string{"Maria Peeters", "MARIA PEETERS", "  maria   peeters "} {
		f := newFixture(t)
		r, err := f.s.Start(ctx, Application{Name: name, BirthDate: 19500301, Mobile: "+999470123456", Account: f.account("50030100170")})
		if err != nil || r.Person != "50030100170" {
			t.Errorf("Start(%q) = %+v, %v; want the register's 50030100170", name, r, err)
			continue
		}
		r, err = f.s.Confirm(ctx, r.ID, f.code(t, "+999470123456"))
		if err != nil || r.Status != Registered {
			t.Errorf("Confirm(%q) = %s, %v; steps %+v", name, r.Status, err, r.Steps)
		}
	}
	// A name of three words, read every way: given "Anna Maria", family "De Smet".
	f.hub.person("52020200137", "Anna Maria", "De Smet", 19520202, 500, 0)
	r, err := f.s.Start(ctx, Application{Name: "Anna Maria De Smet", BirthDate: 19520202, Mobile: "+999470123457", Account: f.account("50030100170")})
	if err != nil || r.Person != "52020200137" {
		t.Errorf("a compound name: %+v, %v", r, err)
	}
}

// TestRegisterByNameRefusals: zero or several living matches are refused with what to
// do, naming no candidate; wildcards, patterns and partial names never reach the hub;
// a social worker cannot enumerate the register by trying names and days.
func TestRegisterByNameRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Two living persons share a name and birth date; a third of that name is dead.
	f.hub.person("48050500131", "Jan", "Janssens", 19480505, 500, 0)
	f.hub.person("48050500230", "Jan", "Janssens", 19480505, 500, 0)
	f.hub.person("47070700152", "Piet", "Pieters", 19470707, 500, 0)
	f.hub.person("47070700251", "Piet", "Pieters", 19470707, 500, 0)
	f.hub.die("47070700251", 20250101)
	acct := f.account("50030100170")
	cases := []struct {
		name  string
		birth date.Date
		kind  fault.Kind
		field string
		what  string
	}{
		{"Jan Janssens", 19480505, fault.Conflict, "name", "person number"},
		{"Maria Peeters", 19500302, fault.NotFound, "name", "exactly as on the identity card"},
		{"Mari Peeters", 19500301, fault.NotFound, "name", "exactly as on the identity card"},
		{"Maria Peeters Janssens", 19500301, fault.NotFound, "name", "identity card"},
		{"Maria *", 19500301, fault.Invalid, "name", "letters"},
		{"M% Peeters", 19500301, fault.Invalid, "name", "letters"},
		{"Maria P", 19500301, fault.Invalid, "name", "in full"},
		{"Maria", 19500301, fault.Invalid, "name", "family name"},
		{"Maria Peeters", 20990101, fault.Invalid, "birth_date", "identity card"},
	}
	for _, c := range cases {
		before := len(f.hub.searches)
		_, err := f.s.Start(ctx, Application{Name: c.name, BirthDate: c.birth, Mobile: "+999470123456", Account: acct, Actor: "sw-1"})
		var fe *fault.Error
		if !asFault(err, &fe) || fe.Kind != c.kind || fe.Field != c.field || !strings.Contains(fe.Msg, c.what) {
			t.Errorf("Start(%q, %s) = %v; want %v on %s saying %q", c.name, c.birth, err, c.kind, c.field, c.what)
			continue
		}
		for _, p := range []string{"48050500131", "48050500230", "50030100170"} {
			if strings.Contains(err.Error(), p) {
				t.Errorf("Start(%q): the refusal names a candidate: %v", c.name, err)
			}
		}
		if c.kind == fault.Invalid && len(f.hub.searches) != before {
			t.Errorf("Start(%q): a refused name reached the register", c.name)
		}
	}
	// One living person of a name shared with a dead one: found.
	r, err := f.s.Start(ctx, Application{Name: "Piet Pieters", BirthDate: 19470707, Mobile: "+999470123458", Account: acct, Actor: "sw-1"})
	if err != nil || r.Person != "47070700152" {
		t.Errorf("one living match among the dead: %+v, %v", r, err)
	}
	if len(f.outbox.To("+999470123456")) != 0 {
		t.Error("a code was sent for a refused identification")
	}
	// Enumeration: trying day after day is cut off, and every search is in the log.
	var err429 error
	for i := 0; i < MaxSearches+1 && err429 == nil; i++ {
		_, err := f.s.Start(ctx, Application{Name: "Maria Peeters", BirthDate: date.Date(19400101).AddDays(i), Mobile: "+999470123459", Account: acct, Actor: "sw-2"})
		if fault.KindOf(err) == fault.TooMany {
			err429 = err
		}
	}
	if err429 == nil {
		t.Errorf("%d searches by one social worker were all answered", MaxSearches+1)
	}
	if _, err := f.s.Start(ctx, Application{Name: "Maria Peeters", BirthDate: 19500301, Mobile: "+999470123460", Account: acct, Actor: "sw-3"}); err != nil {
		t.Errorf("another social worker: %v", err)
	}
}

// TestRegisterBatchByName: lines by name in a batch, each found or refused on its own.
func TestRegisterBatchByName(t *testing.T) {
	f := newFixture(t)
	res, err := f.s.RegisterBatch(context.Background(), []Application{
		{Name: "Maria Peeters", BirthDate: 19500301, Mobile: Mobile("50030100170"), Account: f.account("50030100170")},
		{Name: "Nobody Known", BirthDate: 19500301, Mobile: Mobile("50030100170"), Account: f.account("50030100170")},
	}, "sw-1", 2)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Registration == nil || res[0].Registration.Status != Registered || res[1].Registration != nil || !strings.Contains(res[1].Error, "identity card") {
		t.Errorf("batch by name: %+v / %+v", res[0], res[1])
	}
}

func FuzzParseName(f *testing.F) {
	for _, s := range []string{"Maria Peeters", "Anna Maria De Smet", "J. Peeters", "O'Neil Jean-Luc", "Maria *", "%", "", "Ana Ñúñez", "x y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := ParseName(s)
		if err != nil {
			if fault.KindOf(err) != fault.Invalid {
				t.Fatalf("ParseName(%q) = %v; want an invalid-field error", s, err)
			}
			return
		}
		if len(words) < 2 || len(words) > MaxNameWords {
			t.Fatalf("ParseName(%q) = %q: %d words", s, words, len(words))
		}
		for _, w := range words {
			if strings.ContainsAny(w, "*%_?[]\\") {
				t.Fatalf("ParseName(%q) kept a pattern character in %q", s, w)
			}
		}
		for _, sp := range splits(words) {
			if sp.Given == "" || sp.Family == "" {
				t.Fatalf("ParseName(%q): an empty reading %+v", s, sp)
			}
		}
	})
}
