package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/outbound"
	"github.com/crossroads-hub/crossroads/internal/perm"
)

// ConsultCmd sends a batch consultation to a hub and shows its progress.
type ConsultCmd struct {
	File         string `arg:"" help:"File of person numbers, one a line (a header line 'person' is skipped)."`
	URL          string `help:"The hub's base URL." default:"http://127.0.0.1:8080" env:"CROSSROADS_URL"`
	ClientID     string `help:"Your application's client id." required:"" env:"CROSSROADS_CLIENT_ID"`
	ClientSecret string `help:"Your application's client secret." required:"" env:"CROSSROADS_CLIENT_SECRET"`
	Purpose      string `help:"The purpose: an authorization id or its purpose."`
	Fields       string `help:"Fields wanted, comma-separated (default: all the authorization covers)."`
	Out          string `help:"Where to write the answers (JSON lines); - for standard output." default:"-"`
}

func (c *ConsultCmd) Run(e *env) error {
	f, err := os.Open(c.File)
	if err != nil {
		return err
	}
	defer f.Close()
	total, size, err := countPersons(f) // for the progress; the file is then streamed
	if err != nil {
		return err
	}
	token, err := outbound.ClientToken(e.ctx, nil, strings.TrimSuffix(c.URL, "/")+oauth.TokenPath, c.ClientID, c.ClientSecret)
	if err != nil {
		return err
	}
	q := url.Values{"purpose": {c.Purpose}, "fields": {c.Fields}}
	req, _ := http.NewRequestWithContext(e.ctx, http.MethodPost, strings.TrimSuffix(c.URL, "/")+"/exchange/batch?"+q.Encode(), f)
	req.ContentLength = size
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 6 * time.Hour}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("the hub answered %d: %s", resp.StatusCode, b)
	}
	out := e.stdout
	if c.Out != "-" {
		f, err := perm.OpenFile(c.Out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC) // persons' records
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	return c.copyLines(e, resp.Body, out, total)
}

// countPersons counts the lines of f that the hub will answer (all but blank ones and a
// header line "person") and returns f's size, reading it in blocks, then rewinds it.
func countPersons(f *os.File) (persons int, size int64, err error) {
	br := bufio.NewReaderSize(f, 256<<10)
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		for err == bufio.ErrBufferFull { // a line too long for the hub, which will say so
			_, err = br.ReadSlice('\n')
		}
		first, _, _ := bytes.Cut(line, []byte(","))
		if p := bytes.TrimSpace(first); len(p) > 0 && (n > 1 || !strings.EqualFold(string(p), "person")) {
			persons++
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, err
		}
	}
	if size, err = f.Seek(0, io.SeekCurrent); err != nil {
		return 0, 0, err
	}
	_, err = f.Seek(0, io.SeekStart)
	return persons, size, err
}

// copyLines copies the answer stream as it comes, drawing progress, and prints the
// summary. A line is not decoded: its number is read from its start, and the summary
// told by its first member.
func (c *ConsultCmd) copyLines(e *env, in io.Reader, out io.Writer, total int) error {
	p := newProgress(e.stderr)
	defer p.finish()
	br := bufio.NewReaderSize(in, 256<<10)
	bw := bufio.NewWriterSize(out, 256<<10)
	done := 0
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return fmt.Errorf("the hub sent a line longer than %d bytes after line %d", br.Size(), done)
		}
		if len(line) > 0 && !bytes.HasPrefix(line, []byte(`{"line":`)) {
			if err := bw.Flush(); err != nil {
				return err
			}
			return c.summary(e, p, line)
		}
		if len(line) > 0 {
			if _, err := bw.Write(line); err != nil {
				return err
			}
			done++
			if done%1024 == 0 || br.Buffered() == 0 {
				p.update("persons", done, total)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return fmt.Errorf("the stream ended without a summary after %d lines", done)
}

// summary prints the stream's last line and says whether the batch went to its end.
func (c *ConsultCmd) summary(e *env, p *progress, line []byte) error {
	var sum struct {
		Done     *bool  `json:"done"`
		Answered int    `json:"answered"`
		Refused  int    `json:"refused"`
		Other    int    `json:"other"`
		Error    string `json:"error"`
	}
	if err := json.Unmarshal(line, &sum); err != nil || sum.Done == nil {
		return fmt.Errorf("the hub sent a line that is neither an answer nor the summary: %.200s", line)
	}
	p.finish()
	fmt.Fprintf(e.stderr, "answered %d, refused %d, other %d%s\n", sum.Answered, sum.Refused, sum.Other, suffix(sum.Error))
	if !*sum.Done {
		return exitCode(1)
	}
	return nil
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return "; " + s
}
