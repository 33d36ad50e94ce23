package directorytest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/directory"
)

// result is what a line of a batch must give; for a rejection, the message must contain msg.
type result struct {
	status string
	msg    string
}

var (
	applied = result{status: directory.LineApplied}
	skipped = result{status: directory.LineSkipped}
)

func rejected(msg string) result { return result{directory.LineRejected, msg} }

func runIntegrate(t *testing.T, newStore func(t *testing.T) directory.Store) {
	stored := []directory.Line{add(P1, "FUND", "000", "2020-01-01", "")}
	tests := []struct {
		name   string
		stored []directory.Line
		batch  []directory.Line
		mode   directory.BatchMode
		want   []result
		after  []string // every integration after the batch, as keys()
	}{
		{"adds", nil, []directory.Line{
			add(P1, "FUND", "000", "2020-01-01", ""), add(P3, "FUND", "902", "2021-05-01", "2021-12-31"),
			add(P1, "FUND", "001", "2020-01-01", ""), add(P1, "BANK", "000", "2020-01-01", "")},
			directory.Atomic, []result{applied, applied, applied, applied},
			[]string{P3 + "/FUND/902/2021-05-01-2021-12-31", P1 + "/BANK/000/2020-01-01", P1 + "/FUND/000/2020-01-01", P1 + "/FUND/001/2020-01-01"}},
		{"overlap with a stored period", stored, []directory.Line{
			add(P2, "FUND", "000", "2020-01-01", ""), add(P1, "FUND", "000", "2022-01-01", "")},
			directory.Partial, []result{applied, rejected("2020-01-01")},
			[]string{P1 + "/FUND/000/2020-01-01", P2 + "/FUND/000/2020-01-01"}},
		{"closed period before a stored open one", stored, []directory.Line{
			add(P1, "FUND", "000", "2019-01-01", "2019-12-31"), add(P1, "FUND", "000", "2019-06-01", "2020-01-01")},
			directory.Partial, []result{applied, rejected("")},
			[]string{P1 + "/FUND/000/2019-01-01-2019-12-31", P1 + "/FUND/000/2020-01-01"}},
		{"duplicate of a stored period", stored, []directory.Line{add(P1, "FUND", "000", "2020-01-01", "")},
			directory.Partial, []result{rejected("2020-01-01")}, []string{P1 + "/FUND/000/2020-01-01"}},
		{"overlap inside the batch", nil, []directory.Line{
			add(P2, "FUND", "000", "2020-01-01", "2020-12-31"), add(P2, "FUND", "000", "2020-12-31", ""),
			add(P2, "FUND", "000", "2021-01-01", ""), add(P2, "FUND", "000", "2021-01-01", "")},
			directory.Partial, []result{applied, rejected("2020-01-01"), applied, rejected("2021-01-01")},
			[]string{P2 + "/FUND/000/2020-01-01-2020-12-31", P2 + "/FUND/000/2021-01-01"}},
		{"add then end in one batch", nil, []directory.Line{
			add(P2, "FUND", "000", "2020-01-01", ""), end(P2, "FUND", "000", "2020-01-01", "2020-06-30"),
			add(P2, "FUND", "000", "2020-07-01", "")},
			directory.Atomic, []result{applied, applied, applied},
			[]string{P2 + "/FUND/000/2020-01-01-2020-06-30", P2 + "/FUND/000/2020-07-01"}},
		{"end of a missing period", stored, []directory.Line{
			end(P1, "FUND", "000", "2020-02-01", "2020-06-30"), end(P2, "FUND", "000", "2020-01-01", "2020-06-30")},
			directory.Partial, []result{rejected("no open period"), rejected("2020-01-01")},
			[]string{P1 + "/FUND/000/2020-01-01"}},
		{"end twice", stored, []directory.Line{
			end(P1, "FUND", "000", "2020-01-01", "2020-06-30"), end(P1, "FUND", "000", "2020-01-01", "2020-07-31")},
			directory.Partial, []result{applied, rejected("no open period")},
			[]string{P1 + "/FUND/000/2020-01-01-2020-06-30"}},
		{"atomic with a bad line", stored, []directory.Line{
			add(P2, "FUND", "000", "2020-01-01", ""), add(P1, "FUND", "000", "2021-01-01", ""),
			end(P1, "FUND", "000", "2020-01-01", "2020-06-30")},
			directory.Atomic, []result{skipped, rejected("2020-01-01"), skipped},
			[]string{P1 + "/FUND/000/2020-01-01"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			if len(tt.stored) > 0 {
				mustIntegrate(t, s, tt.stored...)
			}
			rep, err := s.Integrate(context.Background(), "loader", tt.batch, tt.mode)
			if err != nil {
				t.Fatalf("Integrate: %v", err)
			}
			checkReport(t, rep, tt.mode, tt.want)
			all, err := s.Integrations(context.Background(), directory.IntegrationQuery{Limit: 1000})
			if err != nil {
				t.Fatalf("Integrations: %v", err)
			}
			if got := keys(all); !slices.Equal(got, tt.after) {
				t.Errorf("after the batch, Integrations() = %v; want %v", got, tt.after)
			}
			checkBatchHistory(t, s, len(tt.stored) > 0, rep)
		})
	}
}

func checkReport(t *testing.T, rep directory.Report, mode directory.BatchMode, want []result) {
	t.Helper()
	if wantMode := map[directory.BatchMode]string{directory.Atomic: "atomic", directory.Partial: "partial"}[mode]; rep.Mode != wantMode {
		t.Errorf("Report.Mode = %q; want %q", rep.Mode, wantMode)
	}
	if len(rep.Lines) != len(want) {
		t.Fatalf("Report has %d lines; want %d: %+v", len(rep.Lines), len(want), rep.Lines)
	}
	count := map[string]int{}
	for i, r := range rep.Lines {
		w := want[i]
		count[w.status]++
		if r.Line != i+1 || r.Status != w.status {
			t.Errorf("line %d: result %+v; want line %d %s", i+1, r, i+1, w.status)
		}
		if w.status == directory.LineRejected && (r.Field != "begin" || !strings.Contains(r.Error, w.msg)) {
			t.Errorf("line %d: rejected with %s: %q; want begin: …%s…", i+1, r.Field, r.Error, w.msg)
		}
	}
	if rep.Applied != count[directory.LineApplied] || rep.Rejected != count[directory.LineRejected] || rep.Skipped != count[directory.LineSkipped] {
		t.Errorf("Report counts %d applied, %d rejected, %d skipped; want %v", rep.Applied, rep.Rejected, rep.Skipped, count)
	}
}

// checkBatchHistory checks the history entry of the last batch, which a rolled-back
// atomic batch does not leave.
func checkBatchHistory(t *testing.T, s directory.Store, preloaded bool, rep directory.Report) {
	t.Helper()
	h, err := s.History(context.Background(), directory.HistoryQuery{Kind: "integration", Key: "batch"})
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	want := 1
	if preloaded {
		want++
	}
	if rep.Mode == "atomic" && rep.Rejected > 0 {
		want--
	}
	if len(h) != want {
		t.Fatalf("History(integration/batch) has %d entries; want %d", len(h), want)
	}
	last := h[len(h)-1]
	var sum map[string]int
	if err := json.Unmarshal(last.After, &sum); err != nil || last.Op != "integrate" || last.Actor != "loader" {
		t.Fatalf("batch history entry %+v (%v)", last, err)
	}
	if want > 0 && !(rep.Mode == "atomic" && rep.Rejected > 0) &&
		(sum["applied"] != rep.Applied || sum["rejected"] != rep.Rejected || sum["lines"] != len(rep.Lines)) {
		t.Errorf("batch history %s; want applied %d, rejected %d, lines %d", last.After, rep.Applied, rep.Rejected, len(rep.Lines))
	}
}

func runEnd(t *testing.T, newStore func(t *testing.T) directory.Store) {
	ctx := context.Background()
	s := newStore(t)
	mustIntegrate(t, s, add(P1, "FUND", "000", "2020-01-01", ""))
	mustIntegrate(t, s, end(P1, "FUND", "000", "2020-01-01", "2020-06-30"))
	h, err := s.History(ctx, directory.HistoryQuery{Kind: "integration", Key: P1 + "/FUND/000/2020-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 1 || h[0].Op != "end" || h[0].Actor != "loader" {
		t.Fatalf("History of the ended period = %+v; want one end", h)
	}
	var before, after directory.Integration
	if json.Unmarshal(h[0].Before, &before) != nil || json.Unmarshal(h[0].After, &after) != nil {
		t.Fatalf("end entry before %s after %s: not integrations", h[0].Before, h[0].After)
	}
	if !before.End.IsZero() || after.End != day("2020-06-30") || after.Person != P1 || after.Begin != day("2020-01-01") || after.CreatedBy != "loader" {
		t.Errorf("end entry before %+v after %+v", before, after)
	}
}
