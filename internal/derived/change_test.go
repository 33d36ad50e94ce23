package derived

import (
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
)

// TestIncomeOfTheLatestDay: the declared income in force is the one of the latest day,
// whatever the order the declarations were recorded in: a corrective declaration of an
// older quarter, recorded later, does not override a newer quarter's; a correction of
// the same quarter does.
func TestIncomeOfTheLatestDay(t *testing.T) {
	d := &declared{}
	income := func(day date.Date, n int) {
		d.apply(EventIncome, day, &Facts{MonthlyIncome: &n})
	}
	income(date.Of(2026, 7, 1), 3000)
	income(date.Of(2026, 4, 1), 1000) // 2026Q2 corrected after 2026Q3 was declared
	if *d.income != 3000 {
		t.Errorf("after an older quarter's correction: %d; want 3000, the newer quarter's", *d.income)
	}
	income(date.Of(2026, 7, 1), 3500)
	if *d.income != 3500 {
		t.Errorf("after the newer quarter's correction: %d; want 3500", *d.income)
	}
	income(date.Of(2026, 10, 1), 200)
	if *d.income != 200 || d.incomeDay != date.Of(2026, 10, 1) {
		t.Errorf("after a newer quarter: %d on %s; want 200 on 2026-10-01", *d.income, d.incomeDay)
	}
}
