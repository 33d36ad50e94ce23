package bank

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/iban"
)

// CAMT053NS is the namespace of the camt.053 version the demo bank writes; the parser
// reads any version (it goes by element names, which have not changed since .001.02).
const CAMT053NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"

// Limits of the statement parsers: a statement is read as a stream, line by line, so
// its size is bounded by the caller's reader; these bound what one line may hold.
const (
	MaxLines   = 10_000_000
	maxText    = 140 // the longest text element ISO 20022 allows in what we read
	maxDepth   = 32
	maxLineTok = 400 // tokens in one entry
)

// Lines of a returned payment: the debit, then the credit that returns it. A Line's
// Status says which: Booked (DBIT) or Returned (CRDT with RtrInf).

// WriteCAMT053 writes st as a camt.053 document.
func WriteCAMT053(w io.Writer, st Statement, created string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=%q><BkToCstmrStmt>", CAMT053NS)
	fmt.Fprintf(bw, "<GrpHdr><MsgId>%s</MsgId><CreDtTm>%s</CreDtTm></GrpHdr>", esc(st.ID), esc(created))
	fmt.Fprintf(bw, "<Stmt><Id>%s</Id><Acct><Id><IBAN>%s</IBAN></Id></Acct>\n", esc(st.ID), st.Account)
	for _, l := range st.Lines {
		ind, rtr := "DBIT", ""
		if l.Status == Returned {
			ind, rtr = "CRDT", "<RtrInf><Rsn><Cd>"+esc(l.Reason)+"</Cd></Rsn></RtrInf>"
		}
		fmt.Fprintf(bw, "<Ntry><Amt Ccy=%q>%s</Amt><CdtDbtInd>%s</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>%s</Dt></BookgDt><AcctSvcrRef>%s</AcctSvcrRef>"+
			"<NtryDtls><TxDtls><Refs><EndToEndId>%s</EndToEndId></Refs><RltdPties><CdtrAcct><Id><IBAN>%s</IBAN></Id></CdtrAcct></RltdPties>%s</TxDtls></NtryDtls></Ntry>\n",
			esc(l.Currency), FormatAmount(l.Amount), ind, l.Booked, esc(l.BankRef), esc(l.Ref), l.Payee, rtr)
	}
	bw.WriteString("</Stmt></BkToCstmrStmt></Document>\n")
	return bw.Flush()
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// FormatAmount writes minor units as a decimal with two places.
func FormatAmount(v int64) string {
	return fmt.Sprintf("%d.%02d", v/100, v%100)
}

// ParseAmount reads a positive decimal with at most two places into minor units.
func ParseAmount(s string) (int64, error) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || len(whole) > 12 || (dot && (len(frac) == 0 || len(frac) > 2)) {
		return 0, fmt.Errorf("amount %q is not a decimal with at most two places", clipS(s))
	}
	for len(frac) < 2 {
		frac += "0"
	}
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("amount %q is not a decimal with at most two places", clipS(s))
		}
	}
	v, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %q: %v", clipS(s), err)
	}
	return v, nil
}

func clipS(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// StatementHead is what a statement says of itself before its lines.
type StatementHead struct {
	ID      string
	Account iban.IBAN
}

// ParseCAMT053 reads a camt.053 document as a stream, calling fn with each entry as it
// is read (one statement per document). An error names the entry (its position) and
// the element; nothing after it is read.
func ParseCAMT053(r io.Reader, fn func(Line) error) (StatementHead, error) {
	d := xml.NewDecoder(r)
	d.Strict = true
	var head StatementHead
	var path []string
	var text strings.Builder
	var cur Line
	var ind, amt, ccy string
	n, tokens := 0, 0
	inEntry := false
	where := func(err error) error {
		if inEntry {
			return fault.Invalidf(fmt.Sprintf("Ntry[%d]", n+1), "%v", err)
		}
		return fault.Invalidf("Document", "%v", err)
	}
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return head, where(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(path) >= maxDepth {
				return head, where(fmt.Errorf("elements nested deeper than %d", maxDepth))
			}
			path = append(path, t.Name.Local)
			text.Reset()
			if t.Name.Local == "Ntry" && under(path, "Stmt") {
				if inEntry {
					return head, where(errors.New("an entry inside an entry"))
				}
				inEntry, cur, ind, amt, ccy, tokens = true, Line{}, "", "", "", 0
			}
			if inEntry && t.Name.Local == "Amt" && len(path) >= 2 && path[len(path)-2] == "Ntry" {
				for _, a := range t.Attr {
					if a.Name.Local == "Ccy" {
						ccy = a.Value
					}
				}
			}
		case xml.CharData:
			if text.Len()+len(t) > maxText+64 {
				if len(strings.TrimSpace(string(t))) > 0 {
					return head, where(fmt.Errorf("text of %s longer than %d characters", last(path), maxText))
				}
				continue
			}
			text.Write(t)
		case xml.EndElement:
			if len(path) == 0 || path[len(path)-1] != t.Name.Local {
				return head, where(fmt.Errorf("unexpected </%s>", t.Name.Local))
			}
			v := strings.TrimSpace(text.String())
			if inEntry {
				if tokens++; tokens > maxLineTok {
					return head, where(errors.New("entry too large"))
				}
				entryField(path, v, &cur, &ind, &amt)
			} else {
				headField(path, v, &head)
			}
			if t.Name.Local == "Ntry" && inEntry {
				inEntry = false
				if err := finishLine(&cur, ind, amt, ccy); err != nil {
					inEntry = true
					return head, where(err)
				}
				if n++; n > MaxLines {
					return head, fault.TooLargef("Ntry", "a statement holds at most %d entries", MaxLines)
				}
				if err := fn(cur); err != nil {
					return head, err
				}
			}
			path = path[:len(path)-1]
			text.Reset()
		}
	}
	if len(path) != 0 {
		return head, where(fmt.Errorf("the document ends inside <%s>", last(path)))
	}
	if head.Account == "" {
		return head, fault.Invalidf("Stmt.Acct", "the statement names no account (Acct/Id/IBAN)")
	}
	return head, nil
}

func under(path []string, name string) bool {
	return len(path) >= 2 && path[len(path)-2] == name
}

func last(path []string) string {
	if len(path) == 0 {
		return "Document"
	}
	return path[len(path)-1]
}

func headField(path []string, v string, h *StatementHead) {
	switch {
	case last(path) == "Id" && under(path, "Stmt"):
		h.ID = v
	case last(path) == "IBAN" && len(path) >= 4 && path[len(path)-3] == "Acct" && path[len(path)-4] == "Stmt":
		h.Account = iban.IBAN(iban.Normalise(v))
	}
}

func entryField(path []string, v string, l *Line, ind, amt *string) {
	switch last(path) {
	case "Amt":
		if under(path, "Ntry") {
			*amt = v
		}
	case "CdtDbtInd":
		if under(path, "Ntry") {
			*ind = v
		}
	case "Dt":
		if under(path, "BookgDt") {
			if d, err := date.Parse(v); err == nil {
				l.Booked = d
			} else {
				l.Booked = -1
			}
		}
	case "AcctSvcrRef":
		if under(path, "Ntry") {
			l.BankRef = v
		}
	case "EndToEndId":
		l.Ref = v
	case "IBAN":
		if len(path) >= 3 && path[len(path)-3] == "CdtrAcct" {
			l.Payee = iban.IBAN(iban.Normalise(v))
		}
	case "Cd":
		if under(path, "Rsn") {
			l.Reason = v
		}
	}
}

// finishLine checks an entry read and completes it.
func finishLine(l *Line, ind, amt, ccy string) error {
	v, err := ParseAmount(amt)
	if err != nil {
		return err
	}
	l.Amount, l.Currency = v, ccy
	switch {
	case len(ccy) != 3:
		return fmt.Errorf("Amt has no ISO 4217 currency (Ccy=%q)", clipS(ccy))
	case l.Ref == "":
		return errors.New("no EndToEndId: the entry cannot be matched")
	case l.Booked <= 0:
		return errors.New("BookgDt/Dt missing or not a date")
	case iban.Check(string(l.Payee)) != nil:
		return errors.New("CdtrAcct/Id/IBAN missing or not a valid IBAN")
	}
	switch {
	case ind == "DBIT" && l.Reason == "":
		l.Status = Booked
	case ind == "CRDT" && l.Reason != "":
		l.Status = Returned
	default:
		return fmt.Errorf("CdtDbtInd %q with return reason %q: a credit transfer is a DBIT, its return a CRDT with RtrInf", clipS(ind), clipS(l.Reason))
	}
	return nil
}
