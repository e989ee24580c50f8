// Command leverflow is the one binary of Leverflow: it serves the API, the
// Lever webhook endpoint and the built-in Lever sandbox (serve), manages
// API tokens (token), and validates, runs and tests workflows from the
// command line. main only wires; every command is a function of its
// arguments, environment and output streams so tests can call it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(mainExit()) }

// mainExit runs the command line until it ends or SIGINT/SIGTERM asks it
// to (serve then shuts down gracefully) and returns the exit code.
func mainExit() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return exitCode(run(ctx, os.Args[1:], os.Stdout, os.Stderr), os.Stderr)
}

// errExit carries an exit code without a message of its own (the command
// already printed what went wrong).
type errExit struct{ code int }

func (e errExit) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee errExit
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintln(stderr, "leverflow:", err)
	return 2
}

const usage = `leverflow: workflow automation for Lever

Usage:
  leverflow serve [flags]                    the server: API, webhooks, Lever sandbox, workflow runs
  leverflow token create|list|revoke         manage the server's API tokens
  leverflow validate FILE...                 check workflow files; exit 1 on problems
  leverflow run FILE [flags]                 run a workflow in-process and print each step
  leverflow run --resume --db PATH           finish the unfinished runs in a database
  leverflow test FILE...                     run workflow tests; prints "N passed, N failed"
  leverflow step-types [--json]              list the step types and their inputs
  leverflow sandbox [--addr HOST:PORT]       serve the built-in Lever sandbox alone

Run "leverflow COMMAND -h" for a command's flags.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errExit{2}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr)
	case "token":
		return cmdToken(ctx, rest, stdout, stderr)
	case "validate":
		return cmdValidate(ctx, rest, stdout, stderr)
	case "run":
		return cmdRun(ctx, rest, stdout, stderr)
	case "test":
		return cmdTest(ctx, rest, stdout, stderr)
	case "step-types":
		return cmdStepTypes(rest, stdout, stderr)
	case "sandbox":
		return cmdSandbox(ctx, rest, stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "leverflow: unknown command %q\n\n%s", cmd, usage)
		return errExit{2}
	}
}
