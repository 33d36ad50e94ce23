package main

import (
	"io"
	"log/slog"

	"github.com/alecthomas/kong"
)

// CLI is the command tree.
type CLI struct {
	LogFormat string           `help:"Log format: json or text." enum:"json,text" default:"json" env:"CROSSROADS_LOG_FORMAT"`
	LogLevel  string           `help:"Log level: debug, info, warn, error." enum:"debug,info,warn,error" default:"info" env:"CROSSROADS_LOG_LEVEL"`
	Version   kong.VersionFlag `help:"Print the version and exit."`

	Demo      DemoCmd      `cmd:"" help:"Run the hub with an embedded store and a synthetic nation, on 127.0.0.1."`
	Serve     ServeCmd     `cmd:"" help:"Run the hub on the stores you name (SQLite or PostgreSQL)."`
	Synth     SynthCmd     `cmd:"" help:"Generate a synthetic nation into a store."`
	ID        IDCmd        `cmd:"" name:"id" help:"Validate, format and issue person, enterprise and establishment numbers."`
	Directory DirectoryCmd `cmd:"" help:"Manage the reference directory (opens the store directly)."`
	Consult   ConsultCmd   `cmd:"" help:"Ask a hub about many persons at once (batch consultation), with progress."`
	Audit     AuditCmd     `cmd:"" help:"Verify the tamper-evident audit log and evidence files."`
	Witness   WitnessCmd   `cmd:"" help:"Follow a hub's audit checkpoints, check each extends the last with a consistency proof, cosign it; alarm on a rollback or a fork."`
	Keys      KeysCmd      `cmd:"" help:"Rotate and list the hub's signing keys."`
	Sign      SignCmd      `cmd:"" help:"Sign a DCI message with an application's Ed25519 key (the demo's, or a JWK file)."`
	Events    EventsCmd    `cmd:"" help:"Watch the delivery of mutations to subscribers (operators)."`
	Declare   DeclareCmd   `cmd:"" help:"The employment source's quarterly declarations (opens the store directly)."`
	Rights    RightsCmd    `cmd:"" help:"The automatic granting of derived rights: recompute, simulate a rule change, non-take-up (opens the store directly)."`
	Bench     BenchCmd     `cmd:"" help:"Measure the figures the project promises."`
	// Credential: the portal's (#20).
	Credential CredentialCmd `cmd:"" help:"Check the portal's status credentials offline."`
	Scenario   ScenarioCmd   `cmd:"" help:"Run a chain of exchanges end to end on the demo nation, each step with its time and audit record."`
	Cluster    ClusterCmd    `cmd:"" help:"Several hub replicas on one machine: PostgreSQL, a NATS cluster, a load balancer (demo)."`
}

func (c *CLI) logger(w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
