//! `vouch events tail`: follows new events, one line each, until Ctrl-C or SIGTERM.

use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::Value;

use super::client::pairs;
use super::table::{clock, flush, text};
use super::{CliError, Client, Global};

const EVENTS: &str = "/v1/events";
const POLL: Duration = Duration::from_millis(300);

#[derive(Debug, Args)]
pub struct EventsArgs {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: EventsCommand,
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Print each new event as it happens (one line, or one JSON object per line with --json).
    Tail {
        /// Only events of this type (`*` wildcards, e.g. `*.verified`).
        #[arg(long = "type")]
        kind: Option<String>,
        /// Start with past events too: after an event id (`evt_…`), or those of the last
        /// duration (`10m`, `2h`, `1d`), or since a unix time.
        #[arg(long)]
        since: Option<String>,
    },
}

pub async fn run(args: EventsArgs) -> Result<(), CliError> {
    let client = Client::new(&args.global.conn)?;
    let EventsCommand::Tail { kind, since } = args.command;
    let json = args.global.json;
    let filter = pairs([("type", kind)]);
    let start = start(&client, &filter, since.as_deref()).await?;
    tokio::select! {
        r = follow(&client, &filter, start, json) => r,
        _ = crate::shutdown_signal() => Ok(()),
    }
}

/// Where following starts: the newest event now, an event id, or a time.
enum Start {
    After(Option<String>),
    Since(i64),
}

async fn start(
    client: &Client,
    filter: &[(String, String)],
    since: Option<&str>,
) -> Result<Start, CliError> {
    match since {
        Some(id) if id.starts_with("evt_") => Ok(Start::After(Some(id.to_owned()))),
        Some(s) => Ok(Start::Since(since_time(s)?)),
        None => {
            let mut query = filter.to_vec();
            query.push(("limit".into(), "1".into()));
            let newest = client.get(EVENTS, &query).await?;
            Ok(Start::After(
                newest["data"][0]["id"].as_str().map(str::to_owned),
            ))
        }
    }
}

/// `10m` ago, or a unix time.
fn since_time(s: &str) -> Result<i64, CliError> {
    if let Ok(unix) = s.parse::<i64>() {
        return Ok(unix);
    }
    let ms = crate::config::parse_duration_ms(s).ok_or_else(|| {
        CliError::Usage(format!(
            "--since {s}: expected an event id (evt_…), a duration (10m, 2h) or a unix time"
        ))
    })?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Ok(now - ms / 1000)
}

async fn follow(
    client: &Client,
    filter: &[(String, String)],
    start: Start,
    json: bool,
) -> Result<(), CliError> {
    let mut cursor = match start {
        Start::After(cursor) => cursor,
        Start::Since(t) => {
            let mut query = filter.to_vec();
            query.push(("created[gte]".into(), t.to_string()));
            let past = super::sessions::all_pages(client, EVENTS, query).await?;
            let events = past["data"].as_array().cloned().unwrap_or_default();
            for e in events.iter().rev() {
                print_event(e, json);
            }
            events
                .first()
                .and_then(|e| e["id"].as_str())
                .map(str::to_owned)
        }
    };
    loop {
        let mut query = filter.to_vec();
        query.push(("limit".into(), "100".into()));
        if let Some(c) = &cursor {
            query.push(("ending_before".into(), c.clone()));
        }
        let page = client.get(EVENTS, &query).await?;
        let events = page["data"].as_array().cloned().unwrap_or_default();
        // Newest first: print oldest first, and continue after the newest.
        for e in events.iter().rev() {
            print_event(e, json);
        }
        if let Some(newest) = events.first().and_then(|e| e["id"].as_str()) {
            cursor = Some(newest.to_owned());
        }
        if page["has_more"] != Value::Bool(true) || cursor.is_none() {
            tokio::time::sleep(POLL).await;
        }
    }
}

fn print_event(e: &Value, json: bool) {
    if json {
        println!("{e}");
    } else {
        let object = &e["data"]["object"];
        println!("{}", line(e, object));
    }
    flush();
}

/// `12:00:01  evt_…  identity.verification_session.created  vs_…  requires_input`
fn line(e: &Value, object: &Value) -> String {
    format!(
        "{}  {}  {}  {}  {}",
        clock(e["created"].as_i64().unwrap_or_default()),
        text(&e["id"]),
        text(&e["type"]),
        text(&object["id"]),
        text(&object["status"]),
    )
    .trim_end()
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_line_per_event() {
        let e = json!({"id": "evt_1", "created": 3_661, "type": "identity.verification_session.created",
                       "data": {"object": {"id": "vs_1", "status": "requires_input"}}});
        assert_eq!(
            line(&e, &e["data"]["object"]),
            "01:01:01  evt_1  identity.verification_session.created  vs_1  requires_input"
        );
    }
}
