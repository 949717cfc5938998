//! `vouch webhooks list|deliveries|resend` (deliveries come from vouch's extension API, see
//! docs/webhooks.md).

use clap::{Args, Subcommand};
use serde_json::Value;

use super::client::pairs;
use super::table::{date, print_json, text, Table};
use super::{CliError, Client, Global};

const ENDPOINTS: &str = "/v1/webhook_endpoints";
const DELIVERIES: &str = "/v1/vouch/webhook_deliveries";

#[derive(Debug, Args)]
pub struct WebhooksArgs {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: WebhooksCommand,
}

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// The webhook endpoints.
    List,
    /// Deliveries of events to endpoints, newest first, with their last attempt.
    Deliveries {
        /// Only deliveries to this endpoint (`we_…`).
        #[arg(long)]
        endpoint: Option<String>,
        /// Only deliveries of this event (`evt_…`).
        #[arg(long)]
        event: Option<String>,
        /// At most this many (1 to 100).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u8).range(1..=100))]
        limit: u8,
    },
    /// Deliver an event again: a new delivery of the same event to the same endpoint, now.
    Resend {
        /// The delivery (`whdel_…`).
        id: String,
    },
}

pub async fn run(args: WebhooksArgs) -> Result<(), CliError> {
    let client = Client::new(&args.global.conn)?;
    let json = args.global.json;
    match args.command {
        WebhooksCommand::List => {
            let list = super::sessions::all_pages(&client, ENDPOINTS, Vec::new()).await?;
            if json {
                print_json(&list);
                return Ok(());
            }
            let mut t = Table::new(&["ID", "URL", "STATUS", "EVENTS", "DESCRIPTION"]);
            for e in list["data"].as_array().into_iter().flatten() {
                let events = e["enabled_events"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(text)
                    .collect::<Vec<_>>()
                    .join(",");
                t.row(vec![
                    text(&e["id"]),
                    text(&e["url"]),
                    text(&e["status"]),
                    events,
                    text(&e["description"]),
                ]);
            }
            t.print("No webhook endpoints.");
        }
        WebhooksCommand::Deliveries {
            endpoint,
            event,
            limit,
        } => {
            let query = pairs([
                ("webhook_endpoint", endpoint),
                ("event", event),
                ("limit", Some(limit.to_string())),
            ]);
            let list = client.get(DELIVERIES, &query).await?;
            if json {
                print_json(&list);
            } else {
                print_deliveries(list["data"].as_array().map_or(&[][..], Vec::as_slice));
            }
        }
        WebhooksCommand::Resend { id } => {
            let delivery = client
                .post(&format!("{DELIVERIES}/{id}/resend"), &[])
                .await?;
            if json {
                print_json(&delivery);
            } else {
                print_deliveries(std::slice::from_ref(&delivery));
            }
        }
    }
    Ok(())
}

fn print_deliveries(deliveries: &[Value]) {
    let mut t = Table::new(&[
        "ID", "CREATED", "EVENT", "TYPE", "ENDPOINT", "STATUS", "ATTEMPTS", "LAST", "NEXT",
    ]);
    for d in deliveries {
        let last = d["attempts"]
            .as_array()
            .and_then(|a| a.last())
            .map(|a| match a["status_code"].as_u64() {
                Some(code) => code.to_string(),
                None => format!("error: {}", text(&a["error"])),
            })
            .unwrap_or_default();
        t.row(vec![
            text(&d["id"]),
            date(&d["created"]),
            text(&d["event"]),
            text(&d["event_type"]),
            text(&d["webhook_endpoint"]),
            text(&d["status"]),
            text(&d["attempt_count"]),
            last,
            date(&d["next_attempt"]),
        ]);
    }
    t.print("No deliveries.");
}
