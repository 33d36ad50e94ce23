package bank

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/iban"
)

// CSVHeader is the first line of a CSV statement, in this order.
var CSVHeader = []string{"statement", "account", "end_to_end_id", "bank_ref", "payee", "amount", "currency", "booked", "status", "reason"}

// WriteCSV writes st as a CSV statement.
func WriteCSV(w io.Writer, st Statement) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	cw.Write(CSVHeader)
	for _, l := range st.Lines {
		cw.Write([]string{st.ID, string(st.Account), l.Ref, l.BankRef, string(l.Payee), FormatAmount(l.Amount), l.Currency, l.Booked.String(), l.Status, l.Reason})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// ParseCSV reads a CSV statement as a stream, calling fn with each line. Every line
// names the same statement and account; an error names the line number and column.
func ParseCSV(r io.Reader, fn func(Line) error) (StatementHead, error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.ReuseRecord = true
	cr.FieldsPerRecord = len(CSVHeader)
	var head StatementHead
	rec, err := cr.Read()
	if err != nil {
		return head, fault.Invalidf("line 1", "no header: %v", err)
	}
	if !slices.Equal(rec, CSVHeader) {
		return head, fault.Invalidf("line 1", "the header must be %v", CSVHeader)
	}
	for n := 2; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return head, fault.Invalidf(fmt.Sprintf("line %d", n), "%v", err)
		}
		if n > MaxLines+1 {
			return head, fault.TooLargef("lines", "a statement holds at most %d lines", MaxLines)
		}
		l, err := csvLine(rec, &head)
		if err != nil {
			return head, fault.Invalidf(fmt.Sprintf("line %d", n), "%v", err)
		}
		if err := fn(l); err != nil {
			return head, err
		}
	}
	if head.Account == "" {
		return head, fault.Invalidf("account", "the statement has no lines, hence no account")
	}
	return head, nil
}

func csvLine(rec []string, head *StatementHead) (Line, error) {
	for i, v := range rec {
		if len(v) > maxText {
			return Line{}, fmt.Errorf("%s longer than %d characters", CSVHeader[i], maxText)
		}
	}
	acct := iban.IBAN(iban.Normalise(rec[1]))
	if head.Account == "" {
		if err := iban.Check(string(acct)); err != nil {
			return Line{}, fmt.Errorf("account: %v", err)
		}
		head.ID, head.Account = rec[0], acct
	} else if rec[0] != head.ID || acct != head.Account {
		return Line{}, errors.New("statement and account must be those of the first line")
	}
	l := Line{Ref: rec[2], BankRef: rec[3], Payee: iban.IBAN(iban.Normalise(rec[4])), Currency: rec[6], Status: rec[8], Reason: rec[9]}
	var err error
	if l.Amount, err = ParseAmount(rec[5]); err != nil {
		return Line{}, err
	}
	if l.Booked, err = date.Parse(rec[7]); err != nil {
		return Line{}, fmt.Errorf("booked: %v", err)
	}
	switch {
	case l.Ref == "":
		return Line{}, errors.New("end_to_end_id is empty: the line cannot be matched")
	case iban.Check(string(l.Payee)) != nil:
		return Line{}, errors.New("payee is not a valid IBAN")
	case len(l.Currency) != 3:
		return Line{}, errors.New("currency must be an ISO 4217 code")
	case l.Status == Booked && l.Reason != "":
		return Line{}, errors.New("a booked line has no return reason")
	case l.Status == Returned && l.Reason == "":
		return Line{}, errors.New("a returned line needs its reason")
	case l.Status != Booked && l.Status != Returned:
		return Line{}, fmt.Errorf("status %q is neither booked nor returned", clipS(l.Status))
	}
	return l, nil
}
