package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// EventsCmd watches the delivery of mutations on a running hub.
type EventsCmd struct {
	Tail   EventsTailCmd   `cmd:"" help:"Print the last routing and delivery outcomes (up to 100), then every one as it happens (JSON lines), until interrupted, --for has passed or the hub shuts down."`
	Status EventsStatusCmd `cmd:"" help:"Print the outcomes since the hub started and each push subscription's backlog."`
}

// hubAdmin names a running hub and an administrator token.
type hubAdmin struct {
	URL       string `help:"The hub's base URL." default:"http://127.0.0.1:8080" env:"CROSSROADS_URL"`
	Token     string `help:"An administrator token (default: read from --token-file)." env:"CROSSROADS_ADMIN_TOKEN"`
	TokenFile string `help:"File holding the administrator token." default:"./crossroads-data/admin-token" type:"path"`
}

// get sends an administrator GET; the caller closes the body.
func (a hubAdmin) get(e *env, path string, timeout time.Duration) (io.ReadCloser, error) {
	token := a.Token
	if token == "" {
		b, err := os.ReadFile(a.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("no administrator token: give --token or --token-file (%w)", err)
		}
		token = strings.TrimSpace(string(b))
	}
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, strings.TrimSuffix(a.URL, "/")+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("the hub answered %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return resp.Body, nil
}

type EventsTailCmd struct {
	hubAdmin
	For time.Duration `name:"for" help:"Stop after this long (e.g. 5s); 0: until interrupted."`
}

func (c *EventsTailCmd) Run(e *env) error {
	if c.For > 0 {
		ctx, cancel := context.WithTimeout(e.ctx, c.For)
		defer cancel()
		ec := *e
		ec.ctx = ctx
		e = &ec
	}
	body, err := c.get(e, "/admin/events/tail", 0)
	if err != nil {
		return err
	}
	defer body.Close()
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		fmt.Fprintln(e.stdout, sc.Text())
	}
	if e.ctx.Err() != nil {
		return nil // interrupted, or --for has passed: the normal end of a tail
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("the tail broke off: %w", err)
	}
	fmt.Fprintln(e.stderr, "the hub ended the tail: it is shutting down")
	return nil
}

type EventsStatusCmd struct{ hubAdmin }

func (c *EventsStatusCmd) Run(e *env) error {
	body, err := c.get(e, "/admin/events", 30*time.Second)
	if err != nil {
		return err
	}
	defer body.Close()
	_, err = io.Copy(e.stdout, body)
	return err
}
