package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// IDCmd groups the identifier commands.
type IDCmd struct {
	Check  IDCheckCmd  `cmd:"" help:"Validate numbers; exit 1 if any is invalid."`
	Format IDFormatCmd `cmd:"" help:"Print numbers in their printed form."`
	New    IDNewCmd    `cmd:"" help:"Issue a new number that was never issued before."`
}

// IDCheckCmd validates numbers of any kind.
type IDCheckCmd struct {
	Numbers []string `arg:"" help:"Person, BIS, enterprise or establishment numbers (wire or printed form)."`
	JSON    bool     `help:"Print one JSON object per number."`
}

type idInfo struct {
	Input     string `json:"input"`
	Valid     bool   `json:"valid"`
	Kind      string `json:"kind,omitempty"`
	Wire      string `json:"wire,omitempty"`
	Printed   string `json:"printed,omitempty"`
	BirthDate string `json:"birth_date,omitempty"`
	Sex       string `json:"sex,omitempty"`
	Error     string `json:"error,omitempty"`
}

// describe tries every kind of number: 11 digits is a person number, 10 an enterprise
// or establishment number (told apart by the first digit).
func describe(s string) idInfo {
	in := idInfo{Input: s}
	p, perr := ident.ParsePerson(s)
	if perr == nil {
		y, m, d := p.BirthDate()
		in.Valid, in.Kind, in.Wire, in.Printed = true, "person", p.String(), p.Format()
		if p.IsBIS() {
			in.Kind = "bis"
		}
		in.BirthDate = fmt.Sprintf("%04d-%02d-%02d", y, m, d)
		in.Sex = p.Sex().String()
		return in
	}
	if e, err := ident.ParseEnterprise(s); err == nil {
		in.Valid, in.Kind, in.Wire, in.Printed = true, "enterprise", e.String(), e.Format()
		return in
	} else if u, err2 := ident.ParseEstablishment(s); err2 == nil {
		in.Valid, in.Kind, in.Wire, in.Printed = true, "establishment", u.String(), u.Format()
		return in
	} else if digits(s) == 10 {
		in.Error = err.Error()
		if s != "" && (s[0] >= '2' && s[0] <= '8') {
			in.Error = err2.Error()
		}
		return in
	}
	in.Error = perr.Error()
	return in
}

func digits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

func (c *IDCheckCmd) Run(e *env) error {
	bad := 0
	for _, s := range c.Numbers {
		in := describe(s)
		if !in.Valid {
			bad++
		}
		switch {
		case c.JSON:
			b, _ := json.Marshal(in)
			fmt.Fprintln(e.stdout, string(b))
		case in.Valid:
			fmt.Fprintf(e.stdout, "%s: valid %s number %s\n", s, in.Kind, in.Printed)
		default:
			fmt.Fprintf(e.stdout, "%s: invalid: %s\n", s, in.Error)
		}
	}
	if bad > 0 {
		return exitCode(1)
	}
	return nil
}

// IDFormatCmd prints numbers in their printed form.
type IDFormatCmd struct {
	Numbers []string `arg:"" help:"Numbers in any accepted form."`
	Wire    bool     `help:"Print the wire form (digits only) instead."`
}

func (c *IDFormatCmd) Run(e *env) error {
	for _, s := range c.Numbers {
		in := describe(s)
		if !in.Valid {
			return fmt.Errorf("%s: %s", s, in.Error)
		}
		if c.Wire {
			fmt.Fprintln(e.stdout, in.Wire)
		} else {
			fmt.Fprintln(e.stdout, in.Printed)
		}
	}
	return nil
}

// IDNewCmd issues numbers, recording them in the civil register's ledger so none is
// ever issued twice.
type IDNewCmd struct {
	Kind  string `arg:"" enum:"person,bis,enterprise,establishment" help:"person, bis, enterprise or establishment."`
	Birth string `help:"Birth date YYYY-MM-DD (person, bis); month or day may be 00 for a BIS number."`
	Sex   string `help:"male, female or unknown (unknown only for bis)." enum:"male,female,unknown," default:""`
	Store string `help:"Store holding the ledger of issued numbers (the civil register)." default:"sqlite:./crossroads-data/civil.db" env:"CROSSROADS_CIVIL"`
}

func (c *IDNewCmd) Run(e *env) error {
	db, err := sqlstore.Open(e.ctx, c.Store, sqlstore.Civil)
	if err != nil {
		return err
	}
	defer db.Close()
	is := ident.NewIssuer(db.Ledger(), rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0)))
	switch c.Kind {
	case "enterprise":
		n, err := is.IssueEnterprise(e.ctx)
		return printIssued(e, n.Format(), err)
	case "establishment":
		n, err := is.IssueEstablishment(e.ctx)
		return printIssued(e, n.Format(), err)
	}
	y, m, d, err := birthParts(c.Birth)
	if err != nil {
		return err
	}
	sex, kind := ident.SexUnknown, ident.Register
	switch c.Sex {
	case "male":
		sex = ident.Male
	case "female":
		sex = ident.Female
	}
	if c.Kind == "bis" {
		kind = ident.BISSexUnknown
		if sex != ident.SexUnknown {
			kind = ident.BISSexKnown
		}
	} else if sex == ident.SexUnknown {
		return fmt.Errorf("--sex must be male or female for a person number")
	}
	n, err := is.IssuePerson(e.ctx, y, m, d, sex, kind)
	return printIssued(e, n.Format(), err)
}

func birthParts(s string) (y, m, d int, err error) {
	if s == "" {
		return 0, 0, 0, fmt.Errorf("--birth is required (YYYY-MM-DD)")
	}
	if _, err := fmt.Sscanf(s, "%4d-%2d-%2d", &y, &m, &d); err != nil {
		return 0, 0, 0, fmt.Errorf("--birth %q is not YYYY-MM-DD", s)
	}
	if m != 0 && d != 0 {
		if _, err := date.Parse(s); err != nil {
			return 0, 0, 0, fmt.Errorf("--birth: %w", err)
		}
	}
	return y, m, d, nil
}

func printIssued(e *env, printed string, err error) error {
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, printed)
	return nil
}
