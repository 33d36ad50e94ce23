// Package ident parses, validates, makes and issues the unique identifiers
// that the hub exchanges: person numbers, enterprise numbers and
// establishment-unit numbers, modelled on Belgium.
//
// # Person numbers
//
// A person number (the "national number") has 11 digits YYMMDDSSSCC: birth
// year within the century, month, day, a sequence and two check digits.
//
//   - CC = 97 − (YYMMDDSSS mod 97) for births before 2000, and
//     CC = 97 − (2YYMMDDSSS mod 97) from 2000 on. The number carries no
//     century digit, so the rule that matches gives the century: 19YY or
//     20YY. Both rules can never match at once (2·10⁹ is not a multiple of
//     97). Parsing does not compare the date with today, so the result is
//     the same whenever a number is parsed; a 20YY date may lie in the future.
//   - SSS is odd for men and even for women; 000 and 999 are never issued,
//     so the range is 001-998.
//   - Persons outside the population register get a BIS number: the month
//     is raised by 20 when their sex is unknown and by 40 when it is known.
//     Only in the latter case does the sequence parity give the sex.
//   - An unknown month or day is written 00. We accept day 00 with any
//     month, and month 00 with day 00 or any day 01-31, because records with
//     a known day but unknown month exist. When month and day are both known
//     they must form a real date of the resolved year: 29 February only in
//     leap years, so 1900 has none and 2000 has one.
//
// The wire form is the 11 digits; the printed form is YY.MM.DD-SSS.CC, as on
// identity cards.
//
// # Enterprise and establishment-unit numbers
//
// Both have 10 digits whose last two are 97 − (first eight mod 97). An
// enterprise number starts with 0 or 1 and is printed 0403.170.701; an
// establishment-unit number starts with 2 to 8 and is printed
// 2.123.456.789, which keeps its leading digit apart because it names the
// kind of number. An enterprise number may be written with a "BE" prefix
// (any case), as in VAT numbers; the prefix is never part of the value.
//
// # Parsing
//
// Parsers accept the wire and printed forms and tolerate separators anywhere
// (so also leading or trailing ones): space, dot and, for person numbers only,
// dash. Any other character is an error. Errors are *Error values whose Field
// names the part that is wrong, so that an HTTP layer can point at it.
// Checks run in the order characters, length, first digit or month, day
// range, sequence, check digits, calendar date, and the first failure is
// reported.
//
// ValidPerson, ValidEnterprise and ValidEstablishment never allocate, and the
// Check functions allocate only to report an error, so that bulk loads can
// validate millions of numbers per second.
//
// # Issuing
//
// An Issuer hands out numbers that were never issued before, recording each
// in a Ledger; MemoryLedger keeps them in memory for tests and the CLI.
package ident
