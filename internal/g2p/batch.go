package g2p

import (
	"context"
	"fmt"
	"sync"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/iban"
)

// MaxBatch bounds one batch of registrations.
const MaxBatch = 100_000

// BatchResult is the outcome of one application of a batch: its registration, or why
// the application was refused before any check (Error, naming the field).
type BatchResult struct {
	Line         int           `json:"line"`
	Registration *Registration `json:"registration,omitempty"`
	Error        string        `json:"error,omitempty"`
}

// RegisterBatch registers many applicants at once, for a social worker or the
// programme's office (actor) who authenticated them in person: no one-time code. Each
// application is checked on its own; the programme's files on the valid ones are
// opened in one batch of the person directory; then each runs the checks of Confirm,
// several at once. One result per application, in order.
func (s *Service) RegisterBatch(ctx context.Context, apps []Application, actor string, workers int) ([]BatchResult, error) {
	lines := make([]BatchLine, len(apps))
	for i, a := range apps {
		lines[i] = BatchLine{Line: i + 1, App: a}
	}
	return s.RegisterLines(ctx, lines, actor, workers)
}

// RegisterLines is RegisterBatch for the lines of a file (ParseBatch): a line that could
// not be read gets its verdict, the others go on; the results carry the file's line
// numbers.
func (s *Service) RegisterLines(ctx context.Context, lines []BatchLine, actor string, workers int) ([]BatchResult, error) {
	if len(lines) > MaxBatch {
		return nil, fault.TooLargef("applications", "at most %d in one batch, got %d", MaxBatch, len(lines))
	}
	if actor == "" {
		return nil, fault.Invalidf("actor", "a batch names who registers its applicants")
	}
	out := make([]BatchResult, len(lines))
	regs := make([]*Registration, 0, len(lines))
	persons := make([]string, 0, len(lines))
	seen := make(map[string]int, len(lines))
	for i := range lines {
		out[i].Line = lines[i].Line
		if lines[i].Err != nil {
			out[i].Error = lines[i].Err.Error()
			continue
		}
		a := lines[i].App
		a.Actor = actor
		err := a.Check()
		if err == nil && a.Person == "" {
			err = s.identify(ctx, &a)
		} else if err == nil && (a.Name != "" || !a.BirthDate.IsZero()) {
			err = s.searched(a.Actor) // a person number with a name or birth date to check
		}
		if k := fault.KindOf(err); err != nil && (k == fault.Internal || k == fault.Unavailable) {
			return nil, err // the hub failed: the batch stops before anything is done
		}
		if err != nil {
			out[i].Error = err.Error()
			continue
		}
		if prev, ok := seen[a.Person]; ok {
			out[i].Error = fault.Conflictf("person", "the same person as line %d: one application each", prev).Error()
			continue
		}
		seen[a.Person] = lines[i].Line
		if r, ok, err := s.already(ctx, a, actor); err != nil {
			return nil, err
		} else if ok {
			out[i].Registration = &r
			continue
		}
		r := &Registration{ID: s.newID("reg-"), Programme: s.Programme.Code, Person: a.Person, Mobile: a.Mobile,
			Account: iban.IBAN(a.Account), Actor: actor, Name: a.Name, BirthDate: a.BirthDate, Created: s.now().UTC()}
		out[i].Registration = r
		regs = append(regs, r)
		persons = append(persons, a.Person)
	}
	if len(regs) == 0 {
		return out, nil // no line to check: nothing opened
	}
	var filed []Step
	release := s.hold(persons) // no closing of an earlier refusal's file while they are checked
	if err := s.timed(&filed, "file", func(*Step) error { return s.Hub.OpenFiles(ctx, persons, s.today()) }); err != nil {
		release()
		return nil, err
	}
	if workers <= 0 {
		workers = 16
	}
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; k < len(regs); k += workers {
				r := regs[k]
				r.Steps = append(r.Steps, Step{Name: "identified", Outcome: OK, Why: fmt.Sprintf("in person, by %s", clip(actor)), At: s.now().UTC()}, filed[0])
				r.Status = s.checks(ctx, r, true)
				if err := s.Store.PutRegistration(ctx, *r); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	release()
	select {
	case err := <-errs:
		return out, err
	default:
	}
	return out, s.CloseRefused(ctx) // the refused applicants' files, in one batch
}
