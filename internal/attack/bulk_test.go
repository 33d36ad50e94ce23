package attack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// bulkLine is a line of a batch's answer as the tests read it, with its bytes as sent.
type bulkLine struct {
	Line   int            `json:"line"`
	Person string         `json:"person"`
	Status int            `json:"status"`
	Record map[string]any `json:"record"`
	Error  string         `json:"error"`
	Salt   string         `json:"salt"`
	Audit  int64          `json:"audit"`
	raw    []byte
}

// bulkBatch posts body as the pension fund's batch asking for fields and returns its lines
// (the summary left out, checked to say done).
func bulkBatch(t *testing.T, tg *target, fields, body string) []bulkLine {
	t.Helper()
	status, _, out := tg.do(t, "POST", "/exchange/batch?fields="+fields, tg.token(t, synth.PensionFund), "text/plain", []byte(body))
	if status != http.StatusOK {
		t.Fatalf("batch: %d %s", status, clip(out))
	}
	raw := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	if !bytes.Contains(raw[len(raw)-1], []byte(`"done":true`)) {
		t.Fatalf("batch summary: %s", raw[len(raw)-1])
	}
	lines := make([]bulkLine, len(raw)-1)
	for i, b := range raw[:len(raw)-1] {
		if err := json.Unmarshal(b, &lines[i]); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, b)
		}
		lines[i].raw = b
	}
	return lines
}

// strangers returns up to n living persons of the register on whom the pension fund
// holds no file today.
func strangers(t *testing.T, tg *target, files map[string]bool, n int) []string {
	t.Helper()
	ps, err := tg.st.Civil.Population().Persons(context.Background(), population.Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range ps {
		if len(out) < n && p.DeathDate.IsZero() && !files[p.Number] {
			out = append(out, p.Number)
		}
	}
	return out
}

// A batch of many persons, those the pension fund holds a file on mixed with others and
// with lines that are no person number, is answered person by person as before — each
// of its own persons answered with the field asked alone, every other refused without a
// byte of their data — while it is recorded a chunk at a time: each record names every
// person of its chunk, so that each of them finds it, and one line's evidence verifies
// offline without showing any other line.
func TestBulkBatchPerPersonAndRecordedByChunk(t *testing.T) {
	t.Parallel()
	tg := start(t, nil)
	fs := tg.files(t, synth.PensionFund, today(), 1000)
	own := map[string]bool{}
	for _, f := range fs {
		own[f.Person] = true
	}
	others := strangers(t, tg, own, 50)
	if len(fs) < 100 || len(others) < 20 {
		t.Fatalf("the nation gives %d files of the pension fund and %d strangers", len(fs), len(others))
	}
	var body strings.Builder
	body.WriteString("person\n")
	const n = 2600 // three chunks at least
	for i := range n {
		switch {
		case i%97 == 5:
			body.WriteString("not-a-number\n")
		case i%10 == 3:
			body.WriteString(others[i%len(others)] + "\n")
		default:
			body.WriteString(fs[i%len(fs)].Person + "\n")
		}
	}
	before := tg.auditSize(t)
	lines := bulkBatch(t, tg, "given_name", body.String())
	if len(lines) != n {
		t.Fatalf("%d lines; want %d", len(lines), n)
	}
	chunks := map[int64][]bulkLine{}
	var seqs []int64
	for i, l := range lines {
		want := 200
		switch {
		case l.Person == "not-a-number":
			want = 400
		case !own[l.Person]:
			want = 403
		}
		if l.Line != i+2 || l.Status != want || l.Audit == 0 || l.Salt == "" {
			t.Fatalf("line %d = %s; want line %d, status %d, salted and recorded", i, l.raw, i+2, want)
		}
		if want == 200 && (l.Record["given_name"] == nil || len(l.Record) != 2) { // @type and the field asked
			t.Errorf("line %d: record %v; want the given name alone", i, l.Record)
		}
		if want != 200 && (l.Record != nil || bytes.Contains(l.raw, []byte("given_name"))) {
			t.Errorf("line %d about %s, refused: %s carries data", i, l.Person, l.raw)
		}
		if _, ok := chunks[l.Audit]; !ok {
			seqs = append(seqs, l.Audit)
		}
		chunks[l.Audit] = append(chunks[l.Audit], l)
	}
	if after := tg.auditSize(t); after-before != int64(len(seqs)) || len(seqs) < 3 || len(seqs) > n/100 {
		t.Errorf("the log grew by %d records for %d chunks of %d lines; want a record a chunk, chunks of hundreds", after-before, len(seqs), n)
	}
	key := tg.verifierKey(t)
	ownToken := tg.token(t, synth.PensionFund)
	for _, seq := range seqs {
		chunk := chunks[seq]
		rec := tg.auditRecord(t, strconv.FormatInt(seq, 10))
		var r audit.Record
		if err := json.Unmarshal(rec, &r); err != nil {
			t.Fatal(err)
		}
		if r.Lines != len(chunk) || len(r.Persons) > 1000 || r.Institution != synth.PensionFund {
			t.Errorf("record %d: %d lines, %d persons, %s; want %d lines", seq, r.Lines, len(r.Persons), r.Institution, len(chunk))
		}
		named := map[string]bool{}
		for _, p := range r.Persons {
			named[p] = true
		}
		for _, l := range chunk {
			if l.Status != 400 && !named[l.Person] {
				t.Errorf("record %d does not name %s, asked on line %d", seq, l.Person, l.Line)
			}
		}
		// One line's evidence: the record's, and the path from the line to its root.
		status, _, b := tg.do(t, "GET", fmt.Sprintf("/audit/records/%d/evidence", seq), ownToken, "", nil)
		var ev audit.Evidence
		if err := json.Unmarshal(b, &ev); status != 200 || err != nil {
			t.Fatalf("evidence of %d: %d %s", seq, status, clip(b))
		}
		raws := make([][]byte, len(chunk))
		for i, l := range chunk {
			raws[i] = l.raw
		}
		for _, i := range []int{0, len(chunk) / 2, len(chunk) - 1} {
			lp, err := audit.ProveLine(raws, i)
			if err != nil {
				t.Fatal(err)
			}
			got, person, err := audit.VerifyLine(ev, lp, key)
			if err != nil || person != chunk[i].Person || got.Seq != seq {
				t.Errorf("VerifyLine(record %d, line %d) = %d, %q, %v; want the line of %s", seq, i, got.Seq, person, err, chunk[i].Person)
			}
			// What the evidence shows: the record, the checkpoint, the line, hashes.
			proof := slices.Concat(ev.Record, []byte(ev.Checkpoint), []byte(lp.Line))
			if _, own, _ := bytes.Cut(chunk[i].raw, []byte(`"salt":`)); !bytes.Contains(proof, own) {
				t.Fatalf("the proof of line %d does not show the line itself: %s", i, proof)
			}
			for j, other := range chunk {
				_, rec, _ := bytes.Cut(other.raw, []byte(`"record":`))
				rec, _, _ = bytes.Cut(rec, []byte(`,"salt"`))
				if j != i && (bytes.Contains(proof, []byte(other.Salt)) ||
					(other.Record != nil && !strings.Contains(lp.Line, string(rec)) && bytes.Contains(proof, rec))) {
					t.Errorf("the proof of line %d shows line %d's salt or data: %s in %s", i, j, other.raw, proof)
				}
			}
			// A line changed, or another line under this one's proof, does not verify.
			forged := lp
			forged.Line = strings.Replace(lp.Line, `"status":`, `"status":1`, 1)
			if _, _, err := audit.VerifyLine(ev, forged, key); err == nil {
				t.Errorf("VerifyLine accepted a changed line: %s", forged.Line)
			}
			if k := (i + 1) % len(chunk); !bytes.Equal(raws[k], raws[i]) {
				forged = lp
				forged.Line = string(raws[k])
				if _, _, err := audit.VerifyLine(ev, forged, key); err == nil {
					t.Errorf("VerifyLine accepted line %d under the proof of line %d", k, i)
				}
			}
		}
	}
	// Every person asked finds the chunk's record among their exchanges, refused or not.
	var asked []string // some answered, some refused, from the first chunk and the last
	for _, l := range append(chunks[seqs[0]][:20], chunks[seqs[len(seqs)-1]][:20]...) {
		if l.Status == 200 || l.Status == 403 {
			asked = append(asked, l.Person)
		}
	}
	for _, p := range asked {
		var found bool
		for _, it := range tg.auditByPerson(t, p) {
			if seq, _ := it["seq"].(float64); chunks[int64(seq)] != nil {
				found = true
			}
		}
		if !found {
			t.Errorf("the exchanges of %s hold none of the batch's records", p)
		}
	}
}

// auditSize is the log's size as its checkpoint says.
func (tg *target) auditSize(t *testing.T) int64 {
	t.Helper()
	_, _, body := tg.do(t, "GET", "/audit/checkpoint", "", "", nil)
	var out struct {
		Size int64 `json:"log_size"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Size
}
