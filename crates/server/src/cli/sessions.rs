//! `vouch sessions list|show|verify|unverify|cancel|redact`.

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::client::pairs;
use super::table::{date, print_fields, print_json, text, Table};
use super::{CliError, Client, Global};

const SESSIONS: &str = "/v1/identity/verification_sessions";
const HELPERS: &str = "/v1/test_helpers/identity/verification_sessions";

#[derive(Debug, Args)]
pub struct SessionsArgs {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: SessionsCommand,
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List sessions, newest first.
    List {
        /// Only sessions with this status.
        #[arg(long, value_parser = ["requires_input", "processing", "verified", "canceled"])]
        status: Option<String>,
        #[arg(long)]
        client_reference_id: Option<String>,
        /// At most this many (1 to 100).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u8).range(1..=100))]
        limit: u8,
        /// Every matching session (follows the pages).
        #[arg(long, conflicts_with = "limit")]
        all: bool,
    },
    /// One session, with its last report and verified outputs.
    Show { id: String },
    /// Test mode: finish a session as verified.
    Verify {
        id: String,
        /// Stay `processing` first (the server's --test-processing-delay).
        #[arg(long)]
        delay: bool,
    },
    /// Test mode: fail a session's verification.
    Unverify {
        id: String,
        /// The `last_error.code` (e.g. document_expired, consent_declined).
        #[arg(long)]
        code: Option<String>,
        /// Stay `processing` first.
        #[arg(long)]
        delay: bool,
    },
    /// Cancel a session.
    Cancel { id: String },
    /// Redact a session's personal data.
    Redact { id: String },
}

pub async fn run(args: SessionsArgs) -> Result<(), CliError> {
    let client = Client::new(&args.global.conn)?;
    let json = args.global.json;
    match args.command {
        SessionsCommand::List {
            status,
            client_reference_id,
            limit,
            all,
        } => {
            let filters = pairs([
                ("status", status),
                ("client_reference_id", client_reference_id),
            ]);
            let list = if all {
                all_pages(&client, SESSIONS, filters).await?
            } else {
                let mut query = filters;
                query.push(("limit".into(), limit.to_string()));
                client.get(SESSIONS, &query).await?
            };
            if json {
                print_json(&list);
            } else {
                print_list(&list);
            }
        }
        SessionsCommand::Show { id } => {
            let query = pairs([
                ("expand[0]", Some("last_verification_report".into())),
                ("expand[1]", Some("verified_outputs".into())),
                ("expand[2]", Some("verified_outputs.dob".into())),
            ]);
            let session = client.get(&format!("{SESSIONS}/{id}"), &query).await?;
            show(&session, json);
        }
        SessionsCommand::Verify { id, delay } => {
            let form = pairs([("simulate_delay", delay.then(|| "true".into()))]);
            let session = client
                .post(&format!("{HELPERS}/{id}/verify"), &form)
                .await?;
            show(&session, json);
        }
        SessionsCommand::Unverify { id, code, delay } => {
            let form = pairs([
                ("last_error[code]", code),
                ("simulate_delay", delay.then(|| "true".into())),
            ]);
            let session = client
                .post(&format!("{HELPERS}/{id}/unverify"), &form)
                .await?;
            show(&session, json);
        }
        SessionsCommand::Cancel { id } => {
            let session = client.post(&format!("{SESSIONS}/{id}/cancel"), &[]).await?;
            show(&session, json);
        }
        SessionsCommand::Redact { id } => {
            let session = client.post(&format!("{SESSIONS}/{id}/redact"), &[]).await?;
            show(&session, json);
        }
    }
    Ok(())
}

/// Every page of a list (100 at a time), as one list object.
pub async fn all_pages(
    client: &Client,
    path: &str,
    filters: Vec<(String, String)>,
) -> Result<Value, CliError> {
    let mut data = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut query = filters.clone();
        query.push(("limit".into(), "100".into()));
        if let Some(a) = &after {
            query.push(("starting_after".into(), a.clone()));
        }
        let page = client.get(path, &query).await?;
        let items = page["data"].as_array().cloned().unwrap_or_default();
        after = items
            .last()
            .and_then(|s| s["id"].as_str())
            .map(str::to_owned);
        data.extend(items);
        if page["has_more"] != json!(true) || after.is_none() {
            break;
        }
    }
    Ok(json!({"object": "list", "data": data, "has_more": false, "url": path}))
}

fn print_list(list: &Value) {
    let mut t = Table::new(&[
        "ID",
        "STATUS",
        "TYPE",
        "CREATED",
        "CLIENT REFERENCE",
        "LAST ERROR",
    ]);
    for s in list["data"].as_array().into_iter().flatten() {
        t.row(vec![
            text(&s["id"]),
            status(s),
            text(&s["type"]),
            date(&s["created"]),
            text(&s["client_reference_id"]),
            text(&s["last_error"]["code"]),
        ]);
    }
    t.print("No sessions.");
}

/// `verified`, or `canceled (redacted)` for a redacted session.
fn status(s: &Value) -> String {
    match s["redaction"]["status"].as_str() {
        Some(r) => format!("{} (redaction {r})", text(&s["status"])),
        None => text(&s["status"]),
    }
}

fn show(s: &Value, json: bool) {
    if json {
        print_json(s);
        return;
    }
    let report = &s["last_verification_report"];
    let (report_id, document) = match report {
        Value::Object(_) => (text(&report["id"]), text(&report["document"]["status"])),
        other => (text(other), String::new()),
    };
    let outputs = &s["verified_outputs"];
    let name = [text(&outputs["first_name"]), text(&outputs["last_name"])]
        .join(" ")
        .trim()
        .to_owned();
    let dob = match &outputs["dob"] {
        Value::Object(d) => format!(
            "{}-{:02}-{:02}",
            d.get("year").and_then(Value::as_i64).unwrap_or_default(),
            d.get("month").and_then(Value::as_i64).unwrap_or_default(),
            d.get("day").and_then(Value::as_i64).unwrap_or_default()
        ),
        _ => String::new(),
    };
    let metadata = s["metadata"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", text(v)))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let last_error = match &s["last_error"] {
        Value::Object(e) => format!(
            "{}: {}",
            e.get("code").map(text).unwrap_or_default(),
            e.get("reason").map(text).unwrap_or_default()
        ),
        _ => String::new(),
    };
    print_fields(&[
        ("id", text(&s["id"])),
        ("status", status(s)),
        ("type", text(&s["type"])),
        (
            "mode",
            if s["livemode"] == json!(true) {
                "live"
            } else {
                "test"
            }
            .into(),
        ),
        ("created", date(&s["created"])),
        ("client_reference_id", text(&s["client_reference_id"])),
        ("metadata", metadata),
        ("url", text(&s["url"])),
        ("last_error", last_error),
        ("report", report_id),
        ("document check", document),
        ("verified name", name),
        ("verified dob", dob),
    ]);
}
