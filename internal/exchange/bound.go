package exchange

import (
	"strconv"
	"unicode/utf8"
)

// Bounds of what the audit log keeps of text that callers choose (a purpose, a message
// id, a client id claimed at the token endpoint, reasons that repeat them): a record
// stays a few kilobytes whatever the request held, since every exchange and every
// refusal is recorded for good. Such text is clipped, not refused: the refusal of an
// oversize request must be recorded too, and the record's request hash still binds
// every byte that was sent. Persons are not clipped: the log's person index needs all
// of them (an answer names at most a page of them).
const (
	MaxAuditText    = 256 // bytes of an id, a name, a purpose
	MaxAuditReason  = 512 // bytes of one reason
	MaxAuditReasons = 16  // reasons, and fields, in one record
)

// bounded returns e with its caller-chosen text clipped to the bounds.
func bounded(e Entry) Entry {
	for _, s := range []*string{&e.Client, &e.MessageID, &e.Institution, &e.Service, &e.Purpose, &e.Authorization, &e.Outcome} {
		*s = clipText(*s, MaxAuditText)
	}
	e.Reasons = clipList(e.Reasons, MaxAuditReasons, MaxAuditReason)
	e.Fields = clipList(e.Fields, MaxAuditReasons, MaxAuditText)
	return e
}

// clipText cuts s to at most n bytes, at a character's start, and says how long it was.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

// clipList clips each of list and keeps at most n of them, saying how many more there were.
func clipList(list []string, n, size int) []string {
	long := len(list) > n
	for _, s := range list {
		long = long || len(s) > size
	}
	if !long {
		return list
	}
	out := make([]string, 0, min(len(list), n+1))
	for i, s := range list {
		if i == n {
			out = append(out, "… ("+strconv.Itoa(len(list)-n)+" more)")
			break
		}
		out = append(out, clipText(s, size))
	}
	return out
}
