package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/user"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/perm"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// DirectoryCmd manages the reference directory by opening its store directly (SQLite
// allows this while a hub runs on the same file; PostgreSQL always does). Every change
// is recorded in the history under the actor "cli:<user>".
type DirectoryCmd struct {
	Store string `help:"Store of the hub: sqlite:PATH or postgres://…" default:"sqlite:./crossroads-data/hub.db" env:"CROSSROADS_STORE"`

	List      DirListCmd      `cmd:"" help:"List records of a kind, one JSON page."`
	Get       DirGetCmd       `cmd:"" help:"Print one record."`
	Put       DirPutCmd       `cmd:"" help:"Create or replace a record from a JSON file (- for standard input)."`
	Delete    DirDeleteCmd    `cmd:"" help:"Delete a record (refused while others depend on it)."`
	Integrate DirIntegrateCmd `cmd:"" help:"Apply a batch integration file (CSV) to the person directory."`
	Files     DirFilesCmd     `cmd:"" help:"Which institutions have a file on a person, in which capacities, on a day."`
	History   DirHistoryCmd   `cmd:"" help:"Print the history of changes."`
	Secret    DirSecretCmd    `cmd:"" help:"Issue a new client secret for an application (printed once)."`
}

// kindOps are the operations on one kind of record, chosen by name on the command line.
type kindOps struct {
	list func(context.Context, *directory.Directory, directory.ListQuery) (any, error)
	get  func(context.Context, *directory.Directory, string) (any, error)
	put  func(context.Context, *directory.Directory, string, []byte, bool) (any, error)
	del  func(context.Context, *directory.Directory, string, string) error
}

func opsFor[T directory.Entity, P directory.EntityPtr[T]]() kindOps {
	return kindOps{
		list: func(ctx context.Context, d *directory.Directory, q directory.ListQuery) (any, error) {
			return directory.List[T, P](ctx, d, q, nil)
		},
		get: func(ctx context.Context, d *directory.Directory, key string) (any, error) {
			v, _, err := directory.Get[T, P](ctx, d, key)
			return v, err
		},
		put: func(ctx context.Context, d *directory.Directory, actor string, raw []byte, create bool) (any, error) {
			var v T
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&v); err != nil {
				return nil, fmt.Errorf("the JSON does not describe a %s: %w", directory.KindOf[T, P](), err)
			}
			version := directory.AnyVersion
			if create {
				version = directory.MustCreate
			}
			v, _, err := directory.Put[T, P](ctx, d, actor, v, version)
			return v, err
		},
		del: func(ctx context.Context, d *directory.Directory, actor, key string) error {
			return directory.Delete[T, P](ctx, d, actor, key)
		},
	}
}

var kinds = map[string]kindOps{
	"institution":   opsFor[directory.Institution](),
	"application":   opsFor[directory.Application](),
	"service":       opsFor[directory.Service](),
	"authorization": opsFor[directory.Authorization](),
	"subscription":  opsFor[directory.Subscription](),
}

// dirStore is the opened hub store and the directory over it.
type dirStore struct {
	db        *sqlstore.DB
	Directory *directory.Directory
}

func (s *dirStore) Close() error { return s.db.Close() }

func (c *DirectoryCmd) open(e *env) (*dirStore, error) {
	db, err := sqlstore.Open(e.ctx, c.Store, sqlstore.Hub)
	if err != nil {
		return nil, err
	}
	return &dirStore{db: db, Directory: directory.New(db.Directory(), nil)}, nil
}

func actor() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli"
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// DirListCmd lists records.
type DirListCmd struct {
	Kind        string `arg:"" enum:"institution,application,service,authorization,subscription" help:"${enum}"`
	Institution string `help:"Only records of this institution."`
	After       string `help:"Continue after this key (the 'next' of the previous page)."`
	Limit       int    `help:"Records per page (1–1000)." default:"100"`
}

func (c *DirListCmd) Run(e *env, d *DirectoryCmd) error {
	st, err := d.open(e)
	if err != nil {
		return err
	}
	defer st.Close()
	page, err := kinds[c.Kind].list(e.ctx, st.Directory, directory.ListQuery{Owner: c.Institution, After: c.After, Limit: c.Limit})
	if err != nil {
		return err
	}
	return printJSON(e.stdout, page)
}

// DirGetCmd prints one record.
type DirGetCmd struct {
	Kind string `arg:"" enum:"institution,application,service,authorization,subscription" help:"${enum}"`
	Key  string `arg:"" help:"Code or id of the record."`
}

func (c *DirGetCmd) Run(e *env, d *DirectoryCmd) error {
	st, err := d.open(e)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := kinds[c.Kind].get(e.ctx, st.Directory, c.Key)
	if err != nil {
		return err
	}
	return printJSON(e.stdout, v)
}

// DirPutCmd creates or replaces a record.
type DirPutCmd struct {
	Kind   string `arg:"" enum:"institution,application,service,authorization,subscription" help:"${enum}"`
	File   string `arg:"" help:"JSON file of the record, or - for standard input."`
	Create bool   `help:"Refuse to replace an existing record."`
}

func (c *DirPutCmd) Run(e *env, d *DirectoryCmd) error {
	raw, err := readInput(e, c.File)
	if err != nil {
		return err
	}
	st, err := d.open(e)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := kinds[c.Kind].put(e.ctx, st.Directory, actor(), raw, c.Create)
	if err != nil {
		return err
	}
	return printJSON(e.stdout, v)
}

func readInput(e *env, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(e.stdin, 64<<20))
	}
	return os.ReadFile(name)
}

// DirDeleteCmd deletes a record.
type DirDeleteCmd struct {
	Kind string `arg:"" enum:"institution,application,service,authorization,subscription" help:"${enum}"`
	Key  string `arg:"" help:"Code or id of the record."`
}

func (c *DirDeleteCmd) Run(e *env, d *DirectoryCmd) error {
	st, err := d.open(e)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := kinds[c.Kind].del(e.ctx, st.Directory, actor(), c.Key); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "deleted %s %s\n", c.Kind, c.Key)
	return nil
}

// DirIntegrateCmd applies a batch file.
type DirIntegrateCmd struct {
	File   string `arg:"" help:"CSV file with header: [action,]person,institution,capacity,begin[,end]; - for standard input."`
	Mode   string `help:"atomic: all lines or none; partial: keep the good lines." enum:"atomic,partial" default:"atomic"`
	Report string `help:"Where to write the per-line report (JSON); - for standard output." default:"-"`
	All    bool   `help:"List every line in the report, not only those not applied."`
}

func (c *DirIntegrateCmd) Run(e *env, d *DirectoryCmd) error {
	in := e.stdin
	if c.File != "-" {
		f, err := os.Open(c.File)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	pb, err := directory.ParseBatch(in, directory.MaxBatch)
	if err != nil {
		return err
	}
	st, err := d.open(e)
	if err != nil {
		return err
	}
	defer st.Close()
	mode := directory.Atomic
	if c.Mode == "partial" {
		mode = directory.Partial
	}
	rep, err := st.Directory.IntegrateFile(e.ctx, actor(), pb, mode)
	if err != nil {
		return err
	}
	return writeReport(e, c.Report, c.All, rep)
}

func writeReport(e *env, path string, all bool, rep directory.Report) error {
	fmt.Fprintln(e.stderr, rep.String())
	if !all {
		kept := rep.Lines[:0:0]
		for _, l := range rep.Lines {
			if l.Status != directory.LineApplied {
				kept = append(kept, l)
			}
		}
		rep.Lines = kept
	}
	w := e.stdout
	if path != "-" {
		f, err := perm.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := printJSON(w, rep); err != nil {
		return err
	}
	if rep.Rejected > 0 {
		return exitCode(1)
	}
	return nil
}

// DirFilesCmd answers the person-directory question for one person.
type DirFilesCmd struct {
	Person string `arg:"" help:"Person number."`
	Day    string `help:"Day YYYY-MM-DD (default: today)."`
}

func (c *DirFilesCmd) Run(e *env, d *DirectoryCmd) error {
	day, err := date.Parse(c.Day)
	if err != nil {
		return fmt.Errorf("--day: %w", err)
	}
	st, err := d.open(e)
	if err != nil {
		return err
	}
	defer st.Close()
	files, err := st.Directory.Files(e.ctx, c.Person, day)
	if err != nil {
		return err
	}
	return printJSON(e.stdout, files)
}

// DirHistoryCmd prints changes.
type DirHistoryCmd struct {
	Kind  string `help:"Only changes of this kind (institution, …, integration)."`
	Key   string `help:"Only changes of this key."`
	After int64  `help:"Changes after this sequence number."`
	Limit int    `help:"How many (1–1000)." default:"100"`
}

func (c *DirHistoryCmd) Run(e *env, d *DirectoryCmd) error {
	st, err := d.open(e)
	if err != nil {
		return err
	}
	defer st.Close()
	changes, err := st.Directory.History(e.ctx, directory.HistoryQuery{Kind: directory.Kind(c.Kind), Key: c.Key, After: c.After, Limit: c.Limit})
	if err != nil {
		return err
	}
	return printJSON(e.stdout, changes)
}

// DirSecretCmd issues a client secret.
type DirSecretCmd struct {
	Application string `arg:"" help:"Application id."`
}

func (c *DirSecretCmd) Run(e *env, d *DirectoryCmd) error {
	st, err := d.open(e)
	if err != nil {
		return err
	}
	defer st.Close()
	secret, err := st.Directory.IssueClientSecret(e.ctx, actor(), c.Application)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, secret)
	return nil
}
