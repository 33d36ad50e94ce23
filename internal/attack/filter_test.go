package attack_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/synth"
)

// visible lists the persons institution may see today in capacity: the persons it holds
// a file on, in that capacity, today.
func (tg *target) visible(t *testing.T, institution, capacity string) []string {
	t.Helper()
	var out []string
	for _, f := range tg.files(t, institution, today(), 100000) {
		if f.Capacity == capacity && !slices.Contains(out, f.Person) {
			out = append(out, f.Person)
		}
	}
	slices.Sort(out)
	return out
}

// A filter naming a person the asker has no file on answers exactly as one naming a
// person that does not exist: no existence, name or count leaks.
func TestFilterIsNoOracleOnStrangers(t *testing.T) {
	t.Parallel()
	tg := start(t, nil)
	tok := tg.token(t, synth.PensionFund)
	s := tg.stranger(t, synth.PensionFund)
	p, err := tg.st.Civil.Population().Person(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	ask := func(name string) (int, string) {
		// Page 2: the source's page holds no record to withhold, only its count.
		c := strings.Replace(byPredicate("", pred("person", "eq", s), pred("given_name", "eq", name)), `"page_number":1`, `"page_number":2`, 1)
		status, _, body := tg.dci(t, tok, search{criteria: c})
		a := decodeAnswer(t, body)
		total := -1
		if len(a.Message.SearchResponse) > 0 {
			total = a.Message.SearchResponse[0].Pagination.TotalCount
		}
		return status, strings.Join([]string{a.Header.Status, itoa(total), itoa(len(a.records(t)))}, "/")
	}
	st1, right := ask(p.GivenName)
	st2, wrong := ask(p.GivenName + "x")
	if st1 != st2 || right != wrong {
		t.Errorf("filter on a stranger's real name answers %d %s, on a wrong name %d %s; want the same", st1, right, st2, wrong)
	}
	if !strings.Contains(right, "/0/") {
		t.Errorf("filter on a stranger counts him: %s", right)
	}
}

// A condition on a field outside the grant is refused before anything is evaluated,
// saying which field.
func TestFilterOnFieldOutsideGrant(t *testing.T) {
	t.Parallel()
	tg := start(t, nil)
	city := synth.CityPrefix + "R01"
	tok := tg.token(t, city)
	for _, c := range []struct{ name, criteria string }{
		{"condition", byPredicate("", pred("birth_date", "lt", "1960-01-01"))},
		{"condition beside a granted one", byPredicate("", pred("family_name", "ge", "A"), pred("marital_status", "eq", "married"))},
		{"sort key", byPredicate(`{"attribute_name":"birth_date","sort_order":"asc"}`, pred("family_name", "ge", "A"))},
	} {
		status, _, body := tg.dci(t, tok, search{criteria: c.criteria})
		if status != 403 || !strings.Contains(string(body), "not authorized") {
			t.Errorf("%s: %d %s; want 403 naming the field not authorized", c.name, status, clip(body))
		}
	}
	// Granted fields alone are answered.
	status, _, body := tg.dci(t, tok, search{criteria: byPredicate(`{"attribute_name":"family_name","sort_order":"asc"}`, pred("family_name", "ge", "A"))})
	if status != 200 {
		t.Errorf("filter on granted fields: %d %s; want 200", status, clip(body))
	}
}

// Counts and pages are computed over the persons the asker may see, never the register.
func TestFilterCountsOnlyVisiblePersons(t *testing.T) {
	t.Parallel()
	tg := start(t, nil)
	tok := tg.token(t, synth.PensionFund)
	vis := tg.visible(t, synth.PensionFund, synth.CapacityPensioner)
	ctx := context.Background()
	want := 0
	for _, n := range vis {
		p, err := tg.st.Civil.Population().Person(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if !p.BirthDate.IsZero() && p.BirthDate.String() < "1950-01-01" {
			want++
		}
	}
	status, _, body := tg.dci(t, tok, search{criteria: byPredicate("", pred("birth_date", "lt", "1950-01-01"))})
	if status != 200 {
		t.Fatalf("status %d %s", status, clip(body))
	}
	a := decodeAnswer(t, body)
	got := a.Message.SearchResponse[0].Pagination.TotalCount
	if got != want {
		t.Errorf("total_count %d; want %d, the pensioners born before 1950 (%d pensioners)", got, want, len(vis))
	}
	for _, r := range a.records(t) {
		if !slices.Contains(vis, r["person"].(string)) {
			t.Errorf("record of %v, not a pensioner of the fund", r["person"])
		}
	}
}

// An identifier look-up answers alike whether the person does not exist or is not the
// asker's.
func TestLookupSameForStrangerAndNobody(t *testing.T) {
	t.Parallel()
	tg := start(t, nil)
	tok := tg.token(t, synth.PensionFund)
	s := tg.stranger(t, synth.PensionFund)
	p, err := tg.st.Civil.Population().Person(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	st1, _, b1 := tg.dci(t, tok, search{criteria: byID("BRN", p.BRN)})
	st2, _, b2 := tg.dci(t, tok, search{criteria: byID("BRN", p.BRN+"9")})
	e1, e2 := errorsOf(t, b1), errorsOf(t, b2)
	if st1 != st2 || e1 != e2 {
		t.Errorf("BRN of a stranger: %d %s; of nobody: %d %s; want the same answer", st1, e1, st2, e2)
	}
}

// errorsOf is the answer without what differs between any two answers (ids, times).
func errorsOf(t *testing.T, body []byte) string {
	a := decodeAnswer(t, body)
	var b strings.Builder
	for _, e := range a.Errors {
		b.WriteString(e.Code + ":" + e.Message + ";")
	}
	for _, r := range a.Message.SearchResponse {
		b.WriteString(r.Status + ":" + r.StatusReasonCode + ":" + r.StatusReasonMsg + ":" + itoa(r.Pagination.TotalCount) + ":" + string(r.Data.RegRecords) + ";")
	}
	return b.String()
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
