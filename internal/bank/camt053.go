package bank

import (
	"bufio"
	"bytes"
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
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("amount %q is negative: an amount is at least 0.00 (a return is a line of its own)", clipS(s))
	}
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
// the element; nothing after it is read. The XML is read by scanXML (xmlscan.go), a
// strict reader of the subset statements use, about five times faster than
// encoding/xml; the tests compare the two on every input the fuzzer finds.
func ParseCAMT053(r io.Reader, fn func(Line) error) (StatementHead, error) {
	c := &camtReader{fn: fn}
	if err := scanXML(r, c); err != nil {
		return c.head, err
	}
	return c.finish()
}

// camtReader turns the elements of a camt.053 document into lines.
type camtReader struct {
	fn            func(Line) error
	head          StatementHead
	path          []string
	text          []byte
	cur           Line
	ind, amt, ccy string
	n, tokens     int
	inEntry       bool
}

func (c *camtReader) where(err error) error {
	if c.inEntry {
		return fault.Invalidf(fmt.Sprintf("Ntry[%d]", c.n+1), "%v", err)
	}
	return fault.Invalidf("Document", "%v", err)
}

// start opens element local; ccy is its Ccy attribute.
func (c *camtReader) start(local, ccy string) error {
	if len(c.path) >= maxDepth {
		return c.where(fmt.Errorf("elements nested deeper than %d", maxDepth))
	}
	c.path = append(c.path, local)
	c.text = c.text[:0]
	if local == "Ntry" && under(c.path, "Stmt") {
		if c.inEntry {
			return c.where(errors.New("an entry inside an entry"))
		}
		c.inEntry, c.cur, c.ind, c.amt, c.ccy, c.tokens = true, Line{}, "", "", "", 0
	}
	if c.inEntry && local == "Amt" && under(c.path, "Ntry") {
		c.ccy = ccy
	}
	return nil
}

// chars adds text to the element's.
func (c *camtReader) chars(b []byte) error {
	if len(c.text)+len(b) > maxText+64 {
		if len(bytes.TrimSpace(b)) > 0 {
			return c.where(fmt.Errorf("text of %s longer than %d characters", last(c.path), maxText))
		}
		return nil
	}
	c.text = append(c.text, b...)
	return nil
}

// end closes element local.
func (c *camtReader) end(local string) error {
	if len(c.path) == 0 || c.path[len(c.path)-1] != local {
		return c.where(fmt.Errorf("unexpected </%s>", clipS(local)))
	}
	v := string(bytes.TrimSpace(c.text))
	if c.inEntry {
		if c.tokens++; c.tokens > maxLineTok {
			return c.where(errors.New("entry too large"))
		}
		entryField(c.path, v, &c.cur, &c.ind, &c.amt)
	} else {
		headField(c.path, v, &c.head)
	}
	if local == "Ntry" && c.inEntry {
		if err := finishLine(&c.cur, c.ind, c.amt, c.ccy); err != nil {
			return c.where(err)
		}
		c.inEntry = false
		if c.n++; c.n > MaxLines {
			return fault.TooLargef("Ntry", "a statement holds at most %d entries", MaxLines)
		}
		if err := c.fn(c.cur); err != nil {
			return err
		}
	}
	c.path = c.path[:len(c.path)-1]
	c.text = c.text[:0]
	return nil
}

func (c *camtReader) finish() (StatementHead, error) {
	if len(c.path) != 0 {
		return c.head, c.where(fmt.Errorf("the document ends inside <%s>", last(c.path)))
	}
	if c.head.Account == "" {
		return c.head, fault.Invalidf("Stmt.Acct", "the statement names no account (Acct/Id/IBAN)")
	}
	return c.head, nil
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
