package employment

import (
	"fmt"
	"strconv"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
)

// Quarter is a calendar quarter, year×10 + quarter (20263 is 2026Q3).
type Quarter int

// ParseQuarter reads "2026Q3".
func ParseQuarter(s string) (Quarter, error) {
	if len(s) != 6 || (s[4] != 'Q' && s[4] != 'q') || s[5] < '1' || s[5] > '4' {
		return 0, fmt.Errorf("%q is not a quarter such as 2026Q3", s)
	}
	y, err := strconv.Atoi(s[:4])
	if err != nil || y < 1900 {
		return 0, fmt.Errorf("%q is not a quarter such as 2026Q3", s)
	}
	return Quarter(y*10 + int(s[5]-'0')), nil
}

func (q Quarter) String() string { return fmt.Sprintf("%04dQ%d", int(q)/10, int(q)%10) }

// Start is the quarter's first day, End its last.
func (q Quarter) Start() date.Date { return date.Of(int(q)/10, 3*(int(q)%10)-2, 1) }
func (q Quarter) End() date.Date {
	return date.FromTime(q.Start().Time().AddDate(0, 3, -1))
}

// Days is the number of days of the quarter.
func (q Quarter) Days() int {
	return int(q.End().Time().Sub(q.Start().Time())/(24*time.Hour)) + 1
}

// QuarterOf returns the quarter of day d.
func QuarterOf(d date.Date) Quarter { return Quarter(d.Year()*10 + (d.Month()+2)/3) }

// MarshalJSON writes "2026Q3".
func (q Quarter) MarshalJSON() ([]byte, error) { return []byte(`"` + q.String() + `"`), nil }

// UnmarshalJSON reads "2026Q3".
func (q *Quarter) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("a quarter is a string such as \"2026Q3\"")
	}
	v, err := ParseQuarter(s)
	*q = v
	return err
}

// WageLine is one worker's wages and working time with one employer in one quarter, as a
// quarterly declaration states them. Amounts are in cents of the nation's currency.
type WageLine struct {
	Person       string  `json:"person"`
	Employer     string  `json:"employer"`
	Quarter      Quarter `json:"quarter"`
	Wages        int64   `json:"wages"`        // gross ordinary wages
	Bonus        int64   `json:"bonus"`        // gross wages of other kinds (bonuses, holiday pay)
	Days         int     `json:"days"`         // days worked
	Hours        float64 `json:"hours"`        // hours worked
	Fraction     float64 `json:"fraction"`     // working-time fraction over the quarter, in [0, 1]
	Contribution string  `json:"contribution"` // contribution code, 2 digits; "" the ordinary one

	// Set by the source.
	File     int64 `json:"file,omitempty"`     // the file that declared it
	Line     int   `json:"line,omitempty"`     // its line in that file
	Replaced bool  `json:"replaced,omitempty"` // a later declaration replaced it
	// DeclaredBy is the institution that sent the file (the employer or its payroll
	// office), read with the line.
	DeclaredBy string `json:"declared_by,omitempty"`
	// The person and enterprise numbers as integers, for the store's keys.
	PersonKey, EmployerKey int64 `json:"-"`
}

// File is a quarterly declaration file as the source keeps it: its hash makes a second
// upload of the same bytes give the first one's report.
type File struct {
	ID         int64     `json:"id"`
	Hash       string    `json:"hash"` // hex SHA-256 of the bytes
	Format     string    `json:"format"`
	Quarter    Quarter   `json:"quarter"`
	DeclaredBy string    `json:"declared_by"`
	Received   time.Time `json:"received"`
	Lines      int       `json:"lines"`
	Accepted   int       `json:"accepted"`
	Rejected   int       `json:"rejected"`
	Warnings   int       `json:"warnings"`
	Replaced   int       `json:"replaced"`  // accepted lines that replaced an earlier declaration
	Mutations  int       `json:"mutations"` // income changes of the social registry it made, one per worker
	// Report names every line not accepted as it was, with the reason: rejected lines
	// and accepted ones with a warning. A line not named was accepted.
	Report []LineResult `json:"report"`
	// Unlisted counts the verdicts left out of Report, beyond MaxReport: a file whose
	// report is not complete.
	Unlisted int `json:"unlisted,omitempty"`
	// Persons are the workers the file names with a valid person number, each once, in
	// number order: its audit records name them. Not stored; empty for a file stored
	// before.
	Persons []string `json:"-"`
}

// Verdicts of a line.
const (
	Accepted = "accepted"
	Rejected = "rejected"
	Warning  = "warning" // accepted, with something to look at
)

// LineResult is the verdict on one line of a file.
type LineResult struct {
	Line    int    `json:"line"`
	Verdict string `json:"verdict"`
	Field   string `json:"field,omitempty"`
	Reason  string `json:"reason"`
}
