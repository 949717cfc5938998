//! The commands for people that talk to a running vouch over its API: `vouch sessions`,
//! `vouch events`, `vouch webhooks`, `vouch keys` (and `vouch listen`), plus
//! `vouch completions`. Tables on a terminal, vouch's JSON with `--json`, and exit codes
//! scripts can rely on: 0 success, 1 vouch answered an error, 2 usage, 3 cannot connect or
//! not a vouch server, 4 authentication failed (see docs/cli.md).

pub mod client;
pub mod events;
pub mod keys;
pub mod sessions;
pub mod table;
pub mod webhooks;

use std::future::Future;
use std::process::ExitCode;

use clap::Args;

pub use client::{CliError, Client, Connection};

/// Flags every API command takes, before or after its subcommand.
#[derive(Debug, Args)]
pub struct Global {
    #[command(flatten)]
    pub conn: Connection,
    /// Print vouch's JSON (objects and lists as vouch sent them) instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Runs a command on a small runtime and turns its error into the exit code.
pub fn run<F: Future<Output = Result<(), CliError>>>(fut: F) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("vouch: cannot start the runtime: {e}");
            return ExitCode::from(3);
        }
    };
    match runtime.block_on(fut) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vouch: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// `vouch completions <shell>`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for.
    pub shell: clap_complete::Shell,
}

/// Writes the completion script of `command` for `shell` to stdout.
pub fn completions(args: &CompletionsArgs, mut command: clap::Command) -> ExitCode {
    clap_complete::generate(args.shell, &mut command, "vouch", &mut std::io::stdout());
    ExitCode::SUCCESS
}
