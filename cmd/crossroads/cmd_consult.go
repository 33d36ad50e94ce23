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
	body, err := os.ReadFile(c.File)
	if err != nil {
		return err
	}
	total := bytes.Count(body, []byte("\n"))
	if first, _, _ := bytes.Cut(body, []byte("\n")); strings.EqualFold(strings.TrimSpace(string(first)), "person") {
		total-- // the header line, which the hub skips
	}
	token, err := outbound.ClientToken(e.ctx, nil, strings.TrimSuffix(c.URL, "/")+oauth.TokenPath, c.ClientID, c.ClientSecret)
	if err != nil {
		return err
	}
	q := url.Values{"purpose": {c.Purpose}, "fields": {c.Fields}}
	req, _ := http.NewRequestWithContext(e.ctx, http.MethodPost, strings.TrimSuffix(c.URL, "/")+"/exchange/batch?"+q.Encode(), bytes.NewReader(body))
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

// copyLines copies the answer stream, drawing progress, and prints the summary.
func (c *ConsultCmd) copyLines(e *env, in io.Reader, out io.Writer, total int) error {
	p := newProgress(e.stderr)
	defer p.finish()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	done := 0
	for sc.Scan() {
		var probe struct {
			Done     *bool `json:"done"`
			Line     int   `json:"line"`
			Answered int   `json:"answered"`
			Refused  int   `json:"refused"`
			Other    int   `json:"other"`
			Error    string
		}
		if err := json.Unmarshal(sc.Bytes(), &probe); err != nil {
			return fmt.Errorf("the hub sent a line that is not JSON: %w", err)
		}
		if probe.Done != nil {
			p.finish()
			fmt.Fprintf(e.stderr, "answered %d, refused %d, other %d%s\n", probe.Answered, probe.Refused, probe.Other, suffix(probe.Error))
			if !*probe.Done {
				return exitCode(1)
			}
			return nil
		}
		fmt.Fprintln(out, sc.Text())
		done = probe.Line
		p.update("persons", done, total)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return fmt.Errorf("the stream ended without a summary after line %d", done)
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return "; " + s
}
