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
// of them. An answer names at most a page of them; an exchange that concerns more (a
// quarterly declaration file names every worker) is recorded as several records of at
// most MaxAuditPersons persons each, with the same hashes, the first one's seq its seq.
const (
	MaxAuditPersons = 1000 // persons in one record
	MaxAuditText    = 256  // bytes of an id, a name, a purpose
	MaxAuditReason  = 512  // bytes of one reason
	MaxAuditReasons = 16   // reasons, and fields, in one record
)

// splitPersons cuts persons into parts of at most MaxAuditPersons; always one part.
func splitPersons(persons []string) [][]string {
	if len(persons) <= MaxAuditPersons {
		return [][]string{persons}
	}
	parts := make([][]string, 0, (len(persons)+MaxAuditPersons-1)/MaxAuditPersons)
	for len(persons) > 0 {
		n := min(len(persons), MaxAuditPersons)
		parts = append(parts, persons[:n:n])
		persons = persons[n:]
	}
	return parts
}

// partReason says which part of an exchange's persons a record names.
func partReason(k, n int) string {
	return "persons, part " + strconv.Itoa(k) + " of " + strconv.Itoa(n)
}

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
