// Command crossroads is the social-protection exchange hub: one binary that serves the
// hub, runs the demo, generates synthetic nations, checks identifiers, manages the
// reference directory and measures itself.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/perm"
)

// version is set at build time with -ldflags "-X main.version=…" (scripts/release); a
// binary built by `go install module@version` takes the module's version instead.
var version = "dev"

func init() {
	if version != "dev" {
		return
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		version = bi.Main.Version
	}
}

func main() {
	perm.Restrict() // what any command writes (stores, keys, exports) is the user's only
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	var ec exitCode
	switch {
	case errors.As(err, &ec):
		os.Exit(int(ec))
	case err != nil:
		fmt.Fprintln(os.Stderr, "crossroads:", err)
		os.Exit(1)
	}
}

// exitCode ends the program with a code and no message (kong's --help and usage errors).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// env is what every command gets: context, streams and the logger.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

// run parses args and runs the command; main's only job is to call it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (err error) {
	var cli CLI
	exited := -1
	parser, err := kong.New(&cli,
		kong.Name("crossroads"),
		kong.Description("Crossroads: an open social-protection exchange hub."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exited = code; panic(exitCode(code)) }),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Vars{"version": version, "registries": strings.Join(dci.RegistryPaths(), ",")},
	)
	if err != nil {
		return err
	}
	defer func() {
		if v := recover(); v != nil {
			if ec, ok := v.(exitCode); ok && exited >= 0 {
				err = nil
				if ec != 0 {
					err = ec
				}
				return
			}
			panic(v)
		}
	}()
	kctx, err := parser.Parse(args)
	if err != nil {
		parser.Errorf("%s", err)
		return exitCode(2)
	}
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, log: cli.logger(stderr)}
	return kctx.Run(e)
}
