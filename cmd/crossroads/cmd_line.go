package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/crossroads-hub/crossroads/internal/audit"
)

// LineEvidence is the evidence of one line of a batch consultation: the evidence of its
// chunk's record and the proof of the line under it. It holds no other line.
type LineEvidence struct {
	Evidence audit.Evidence  `json:"evidence"`
	Line     audit.LineProof `json:"line"`
}

// AuditProveLineCmd makes the evidence of one line of a batch's answers.
type AuditProveLineCmd struct {
	Answers  string `arg:"" help:"The batch's answers as received (crossroads consult --out): JSON lines."`
	Line     int    `help:"The answer to prove, named by the line of the request body it answers: its \"line\" member, counted from 1 as the body's lines (a header line and blank lines included), not its place among the answers. verify-line reports the same number." required:""`
	Evidence string `help:"The evidence of the answer's audit record (GET /audit/records/{seq}/evidence)." required:""`
	Out      string `help:"Where to write the line's evidence; - for standard output." default:"-"`
}

func (c *AuditProveLineCmd) Run(e *env) error {
	b, err := os.ReadFile(c.Evidence)
	if err != nil {
		return err
	}
	var ev audit.Evidence
	if err := json.Unmarshal(b, &ev); err != nil {
		return fmt.Errorf("%s is not an evidence file: %w", c.Evidence, err)
	}
	f, err := os.Open(c.Answers)
	if err != nil {
		return err
	}
	defer f.Close()
	chunk, at, err := chunkLines(f, ev.Seq, c.Line)
	if err != nil {
		return err
	}
	lp, err := audit.ProveLine(chunk, at)
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(LineEvidence{Evidence: ev, Line: lp}, "", "  ")
	if err != nil {
		return err
	}
	if c.Out == "-" {
		_, err = fmt.Fprintln(e.stdout, string(out))
		return err
	}
	return os.WriteFile(c.Out, append(out, '\n'), 0o600) // a person's record: the owner's alone
}

// chunkLines returns the answer lines recorded in record seq, in order, and the place
// among them of the answer to body line n.
func chunkLines(r io.Reader, seq int64, n int) ([][]byte, int, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	var chunk [][]byte
	at := -1
	for {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var l struct {
				Line  int   `json:"line"`
				Audit int64 `json:"audit"`
			}
			if json.Unmarshal(line, &l) == nil && l.Audit == seq {
				if l.Line == n {
					at = len(chunk)
				}
				chunk = append(chunk, line)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, err
		}
	}
	if at < 0 {
		return nil, 0, fmt.Errorf("no answer to line %d of the request body (a \"line\" member) recorded in record %d among the answers", n, seq)
	}
	return chunk, at, nil
}

// AuditVerifyLineCmd checks the evidence of one line offline.
type AuditVerifyLineCmd struct {
	File        string   `arg:"" help:"A line's evidence (crossroads audit prove-line)."`
	VerifierKey []string `help:"A verifier key of the hub (GET /audit/checkpoint's verifier_key), trusted for a checkpoint of any size."`
	Checkpoint  string   `help:"GET /audit/checkpoint's answer, saved: its key history (verifier_keys) verifies a checkpoint signed before a rotation of the hub's key with the key that signed then, and no other." type:"path"`
	Line        int      `help:"When set, the evidence must be of the answer to this line of the request body (its \"line\" member, as prove-line --line names it)."`
}

func (c *AuditVerifyLineCmd) Run(e *env) error {
	b, err := os.ReadFile(c.File)
	if err != nil {
		return err
	}
	var le LineEvidence
	if err := json.Unmarshal(b, &le); err != nil {
		return fmt.Errorf("%s is not a line's evidence: %w", c.File, err)
	}
	keys, err := (&AuditVerifyEvidenceCmd{VerifierKey: c.VerifierKey, Checkpoint: c.Checkpoint}).keys()
	if err != nil {
		return err
	}
	rec, person, err := audit.VerifyLineKeys(le.Evidence, le.Line, keys)
	var body int
	if err == nil {
		body, err = bodyLine(le.Line.Line)
	}
	if err == nil && c.Line != 0 && body != c.Line {
		err = fmt.Errorf("the evidence is of the answer to line %d of the request body, not line %d", body, c.Line)
	}
	if err != nil {
		fmt.Fprintf(e.stdout, "line evidence INVALID: %v\n", err)
		return exitCode(1)
	}
	fmt.Fprintf(e.stdout, "line evidence OK: the answer to line %d of the request body, about %s, is answer %d of the %d recorded in record %d (%s of %s), which is in the signed log\n",
		body, person, le.Line.Index+1, rec.Lines, rec.Seq, rec.Client, rec.Institution)
	return nil
}

// bodyLine returns the line of the request body an answer line answers: its "line"
// member, which the line's hash covers.
func bodyLine(line string) (int, error) {
	var l struct {
		Line int `json:"line"`
	}
	if err := json.Unmarshal([]byte(line), &l); err != nil || l.Line < 1 {
		return 0, fmt.Errorf("the answer line has no \"line\" member naming a line of the request body")
	}
	return l.Line, nil
}
