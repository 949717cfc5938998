//! `vouch listen --forward-to URL`: like `stripe listen`. Registers a webhook endpoint on a
//! running vouch whose URL is the forward target (vouch delivers to it directly, signed),
//! prints its `whsec_` secret, prints one line per delivery attempt until interrupted, then
//! deletes the endpoint.

use std::collections::HashMap;
use std::time::Duration;

use clap::Args;
use serde_json::Value;

use crate::cli::table::{clock, flush};
use crate::cli::{CliError, Client, Connection};

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Where to deliver events, e.g. http://localhost:3000/webhooks.
    #[arg(long, short = 'f')]
    pub forward_to: String,
    /// Event types to receive, comma-separated [default: *]; `*` leaves out
    /// identity.verification_session.redacted unless it is named too.
    #[arg(long, short = 'e', value_delimiter = ',')]
    pub events: Vec<String>,
    #[command(flatten)]
    pub conn: Connection,
}

const POLL: Duration = Duration::from_millis(250);

pub fn run(args: ListenArgs) -> std::process::ExitCode {
    crate::cli::run(listen(args))
}

async fn listen(args: ListenArgs) -> Result<(), CliError> {
    let api = Client::new(&args.conn)?;
    let events: Vec<String> = if args.events.iter().all(|e| e.trim().is_empty()) {
        vec!["*".to_owned()]
    } else {
        args.events.iter().map(|e| e.trim().to_owned()).collect()
    };
    let mut form = vec![
        ("url".to_owned(), args.forward_to.clone()),
        ("description".to_owned(), "vouch listen".to_owned()),
    ];
    for (i, e) in events.iter().enumerate() {
        form.push((format!("enabled_events[{i}]"), e.clone()));
    }
    let created = api.post("/v1/webhook_endpoints", &form).await?;
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    let secret = created["secret"].as_str().unwrap_or_default();
    println!(
        "> Ready! Forwarding {} to {} (webhook endpoint {id}).",
        events.join(", "),
        args.forward_to
    );
    println!("> Your webhook signing secret is {secret} (^C to quit)");
    flush();

    let outcome = tokio::select! {
        r = follow(&api, &id, &args.forward_to) => r,
        _ = crate::shutdown_signal() => Ok(()),
    };
    match api.delete(&format!("/v1/webhook_endpoints/{id}")).await {
        Ok(_) => println!("> Removed webhook endpoint {id}."),
        Err(e) => eprintln!("vouch listen: could not remove webhook endpoint {id}: {e}"),
    }
    flush();
    outcome
}

/// Prints each new delivery attempt to the endpoint, oldest first, until cancelled.
async fn follow(api: &Client, endpoint: &str, target: &str) -> Result<(), CliError> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut warned = false;
    loop {
        let query = [
            ("webhook_endpoint".to_owned(), endpoint.to_owned()),
            ("limit".to_owned(), "100".to_owned()),
        ];
        let listed = api.get("/v1/vouch/webhook_deliveries", &query).await;
        match listed {
            Ok(list) => {
                warned = false;
                let deliveries = list["data"].as_array().cloned().unwrap_or_default();
                for d in deliveries.iter().rev() {
                    let id = d["id"].as_str().unwrap_or_default().to_owned();
                    let attempts = d["attempts"].as_array().cloned().unwrap_or_default();
                    let done = seen.entry(id).or_insert(0);
                    for a in attempts.iter().skip(*done) {
                        println!("{}", line(d, a, target));
                    }
                    *done = attempts.len().max(*done);
                }
                flush();
            }
            Err(e) if !warned => {
                eprintln!("vouch listen: {e} (retrying)");
                warned = true;
            }
            Err(_) => {}
        }
        tokio::time::sleep(POLL).await;
    }
}

/// `2026-…  --> identity.verification_session.created [evt_…]  <-- [200] POST http://…`
fn line(delivery: &Value, attempt: &Value, target: &str) -> String {
    let result = match attempt["status_code"].as_u64() {
        Some(code) => format!("[{code}]"),
        None => format!(
            "[ERR] {}",
            attempt["error"].as_str().unwrap_or("no response")
        ),
    };
    format!(
        "{}  --> {} [{}]  <-- {result} POST {target}",
        clock(attempt["created"].as_i64().unwrap_or_default()),
        delivery["event_type"].as_str().unwrap_or_default(),
        delivery["event"].as_str().unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_line_per_attempt() {
        let d = json!({"event": "evt_1", "event_type": "identity.verification_session.created"});
        let ok = json!({"created": 3_661, "status_code": 200});
        assert_eq!(
            line(&d, &ok, "http://localhost:3000/hooks"),
            "01:01:01  --> identity.verification_session.created [evt_1]  <-- [200] POST http://localhost:3000/hooks"
        );
        let err = json!({"created": 0, "status_code": null, "error": "timed out after 5000 ms"});
        assert!(line(&d, &err, "x").ends_with("<-- [ERR] timed out after 5000 ms POST x"));
    }
}
