package hub_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/synth"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// TestRevokedMandate: the hub keeps the declarers' mandates in memory, and a mandate
// revoked through its directory is refused by the very next declaration; one revoked
// elsewhere (the CLI, another replica: another directory over the same store, which does
// not tell this hub) within the refresh interval.
func TestRevokedMandate(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	tok := payroll(t, r, "PAYROLL-R", "declaration.submit")
	inst, _, err := directory.Get[directory.Institution](ctx, r.st.Directory, "PAYROLL-R")
	if err != nil {
		t.Fatal(err)
	}
	today := r.st.Directory.Today()
	worker := fileHolder(t, r, synth.EmploymentService, synth.CapacityJobseeker, 3, nil)
	hire := func(start string) string {
		return `{"kind":"hire","person":"` + worker + `","employer":"` + fixtureEnterprise + `","start":"` + start + `","contract":"permanent","fraction":1,"sector":"200"}`
	}
	// A hire more than a year ahead: refused after the mandate is checked (400) while
	// the office holds it, before (403) once it does not; nothing is recorded either way.
	probe := func() int {
		status, _ := post(t, r.url+"/declarations", tok, hire(today.AddDays(400).String()))
		return status
	}
	if status, b := post(t, r.url+"/declarations", tok, hire(today.AddDays(3).String())); status != http.StatusCreated {
		t.Fatalf("a hire under the mandate: %d %s", status, b)
	}
	if got := probe(); got != http.StatusBadRequest {
		t.Fatalf("the probe under the mandate: %d; want 400", got)
	}
	put := func(d *directory.Directory, mandates []string) {
		t.Helper()
		inst.Mandates = mandates
		if _, _, err := directory.Put(ctx, d, "test", inst, directory.AnyVersion); err != nil {
			t.Fatal(err)
		}
	}
	put(r.st.Directory, nil) // revoked through the hub: at once
	if got := probe(); got != http.StatusForbidden {
		t.Errorf("a declaration right after the mandate was revoked through the hub: %d; want 403", got)
	}
	put(r.st.Directory, []string{fixtureEnterprise}) // given again: at once
	if got := probe(); got != http.StatusBadRequest {
		t.Errorf("a declaration right after the mandate was given again: %d; want 400", got)
	}
	put(directory.New(r.st.Directory.Store(), nil), nil) // revoked elsewhere
	testwait.For(t, 10*time.Second, testwait.True("a mandate revoked elsewhere refused", func() bool { return probe() == http.StatusForbidden }))
}
