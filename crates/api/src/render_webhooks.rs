//! JSON renderings of events, webhook endpoints and (vouch's own) webhook deliveries.

use serde_json::{json, Map, Value};
use vouch_domain::webhook::{Delivery, WebhookEndpoint};
use vouch_domain::WireEnum;
use vouch_store::StoredEvent;

use crate::expand::SessionExpand;

/// An event: `data.object` is the session as it was, rendered like any session response
/// without expansions (so without `verified_outputs` or `provided_details`).
pub fn event(e: &StoredEvent, api_version: &str, public_url: &str) -> Value {
    let ev = &e.event;
    // As the session was when the event happened.
    let at_ms = ev.created.saturating_mul(1000);
    let object = crate::render::session(
        &ev.session,
        &SessionExpand::default(),
        None,
        public_url,
        at_ms,
    );
    let mut m = Map::new();
    m.insert("id".into(), json!(ev.id.as_str()));
    m.insert("object".into(), json!("event"));
    m.insert("api_version".into(), json!(api_version));
    m.insert("created".into(), json!(ev.created));
    m.insert("data".into(), json!({ "object": object }));
    m.insert("livemode".into(), json!(ev.livemode));
    m.insert("pending_webhooks".into(), json!(e.pending_webhooks));
    m.insert(
        "request".into(),
        json!({"id": ev.request.id, "idempotency_key": ev.request.idempotency_key}),
    );
    m.insert("type".into(), json!(ev.kind.as_str()));
    Value::Object(m)
}

/// A webhook endpoint; `secret` only when `with_secret` (the create response).
pub fn webhook_endpoint(ep: &WebhookEndpoint, with_secret: bool) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(ep.id.as_str()));
    m.insert("object".into(), json!("webhook_endpoint"));
    m.insert("api_version".into(), json!(ep.api_version));
    m.insert("application".into(), Value::Null);
    m.insert("created".into(), json!(ep.created));
    m.insert("description".into(), json!(ep.description));
    m.insert("enabled_events".into(), json!(ep.enabled_events));
    m.insert("livemode".into(), json!(ep.livemode));
    m.insert(
        "metadata".into(),
        Value::Object(
            ep.metadata
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect(),
        ),
    );
    if with_secret {
        m.insert("secret".into(), json!(ep.secret));
    }
    m.insert(
        "status".into(),
        json!(if ep.disabled { "disabled" } else { "enabled" }),
    );
    m.insert("url".into(), json!(ep.url));
    Value::Object(m)
}

/// `{"id", "object": "webhook_endpoint", "deleted": true}`.
pub fn deleted_webhook_endpoint(id: &str) -> Value {
    json!({"id": id, "object": "webhook_endpoint", "deleted": true})
}

/// vouch extension: one event's delivery to one endpoint, with every attempt.
pub fn delivery(d: &Delivery) -> Value {
    let attempts: Vec<Value> = d
        .history
        .iter()
        .map(|a| {
            json!({
                "created": a.at_ms.div_euclid(1000),
                "created_ms": a.at_ms,
                "status_code": a.status,
                "latency_ms": a.latency_ms,
                "error": a.error,
                "response_body": a.response_body,
            })
        })
        .collect();
    json!({
        "id": d.id.as_str(),
        "object": "vouch.webhook_delivery",
        "attempt_count": d.attempts,
        "attempts": attempts,
        "created": d.created_ms.div_euclid(1000),
        "event": d.event_id.as_str(),
        "event_type": d.event_type,
        "next_attempt": d.next_attempt_ms.map(|t| t.div_euclid(1000)),
        "next_attempt_ms": d.next_attempt_ms,
        "status": d.state.as_str(),
        "webhook_endpoint": d.endpoint_id.as_str(),
    })
}
