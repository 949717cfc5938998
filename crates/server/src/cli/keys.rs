//! `vouch keys create|list|revoke`: secret keys created at runtime (key rotation), through
//! vouch's `/v1/vouch/api_keys` extension.

use clap::{Args, Subcommand};
use serde_json::Value;

use super::client::pairs;
use super::table::{date, print_fields, print_json, text, Table};
use super::{CliError, Client, Global};

const KEYS: &str = "/v1/vouch/api_keys";

#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// A new secret key for the same account as --api-key (printed once).
    Create {
        /// Must be the mode of --api-key [default: that mode].
        #[arg(long, value_parser = ["test", "live"])]
        mode: Option<String>,
        /// A label to recognise it by.
        #[arg(long)]
        name: Option<String>,
    },
    /// The account's keys: the configured one and those created.
    List,
    /// Revoke a created key: it is refused (401) from then on.
    Revoke {
        /// The key's id (`key_…`, from `vouch keys list`).
        id: String,
    },
}

pub async fn run(args: KeysArgs) -> Result<(), CliError> {
    let client = Client::new(&args.global.conn)?;
    let json = args.global.json;
    match args.command {
        KeysCommand::Create { mode, name } => {
            let key = client
                .post(KEYS, &pairs([("mode", mode), ("name", name)]))
                .await?;
            if json {
                print_json(&key);
            } else {
                print_key(&key);
                eprintln!("vouch: keep the secret now: it is not shown again.");
            }
        }
        KeysCommand::List => {
            let list = client.get(KEYS, &[]).await?;
            if json {
                print_json(&list);
                return Ok(());
            }
            let mut t = Table::new(&[
                "ID", "MODE", "SOURCE", "NAME", "LAST4", "CREATED", "REVOKED",
            ]);
            for k in list["data"].as_array().into_iter().flatten() {
                t.row(vec![
                    text(&k["id"]),
                    text(&k["mode"]),
                    text(&k["source"]),
                    text(&k["name"]),
                    text(&k["last4"]),
                    date(&k["created"]),
                    date(&k["revoked_at"]),
                ]);
            }
            t.print("No keys.");
        }
        KeysCommand::Revoke { id } => {
            let key = client.post(&format!("{KEYS}/{id}/revoke"), &[]).await?;
            if json {
                print_json(&key);
            } else {
                print_key(&key);
            }
        }
    }
    Ok(())
}

fn print_key(k: &Value) {
    print_fields(&[
        ("id", text(&k["id"])),
        ("mode", text(&k["mode"])),
        ("name", text(&k["name"])),
        ("created", date(&k["created"])),
        ("revoked", date(&k["revoked_at"])),
        ("secret", text(&k["secret"])),
    ]);
}
