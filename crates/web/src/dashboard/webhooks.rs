//! Webhook endpoints and every delivery with its attempts (status, latency, error, the start of
//! the response), resend (the API's `resend_delivery`), and **Send test event**: a test event
//! (`vouch_domain::test_event`) of one of the endpoint's enabled identity event types, queued
//! as a delivery to that endpoint only. It goes through the outbox like any event (signed with
//! the endpoint's secret, retried, in the delivery log) but is never stored as an event, so it
//! is not in `/v1/events` and no other endpoint receives it.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use vouch_domain::event::EventType;
use vouch_domain::ids::{DeliveryId, WebhookEndpointId};
use vouch_domain::session::WireEnum;
use vouch_domain::test_event;
use vouch_domain::webhook::{Delivery, DeliveryState, WebhookEndpoint};
use vouch_store::{Cursor, DeliveryFilter, StoreError};

use super::auth::{me, me_with_csrf, principal, read_form, see_other, Me};
use super::sessions::query;
use super::view::{or_dash, post_button, time_tag};
use super::{Dash, DashError, DashPage, Section};
use crate::form::Fields;
use crate::html::{fill, Html};

const PAGE: &str = include_str!("../../templates/dashboard/webhooks.html");
const PAGE_SIZE: usize = 20;
/// How much of a response body is shown.
const BODY_SHOWN: usize = 300;

pub(crate) async fn page(
    State(dash): State<Dash>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<DashPage, DashError> {
    let me = me(&dash, &headers).await?;
    let f = query(&uri);
    let store = &dash.app.store;
    let endpoints = store
        .list_webhook_endpoints(&me.account.id, None, vouch_domain::webhook::MAX_ENDPOINTS)
        .await?
        .items;
    let endpoint = f.non_empty("endpoint").and_then(WebhookEndpointId::parse);
    let cursor = f
        .non_empty("starting_after")
        .and_then(DeliveryId::parse)
        .map(Cursor::After);
    let filter = DeliveryFilter {
        endpoint: endpoint.clone(),
        event: None,
    };
    let deliveries = match store
        .list_deliveries(&me.account.id, &filter, cursor.as_ref(), PAGE_SIZE)
        .await
    {
        Ok(p) => p,
        Err(StoreError::NotFound) => {
            return Err(DashError::BadRequest(
                "That page of deliveries no longer exists.".into(),
            ))
        }
        Err(e) => return Err(e.into()),
    };

    let mut eps = Html::default();
    for ep in &endpoints {
        let state = if ep.disabled { "disabled" } else { "enabled" };
        eps.push(Html::trusted(format!(
            "<tr><td><a href=\"/dashboard/webhooks?endpoint={id}\"><code>{id}</code></a></td>\
             <td class=\"wrap\">{}</td><td>{}</td><td>{state}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            Html::text(&ep.url).as_str(),
            Html::text(&ep.enabled_events.join(", ")).as_str(),
            or_dash(ep.description.as_deref()).as_str(),
            time_tag(ep.created).as_str(),
            test_form(&me, ep).as_str(),
            id = Html::text(ep.id.as_str()).as_str(),
        )));
    }
    if endpoints.is_empty() {
        eps = Html::trusted(
            "<tr><td colspan=\"7\" class=\"muted\">No webhook endpoints. Create one with \
             <code>POST /v1/webhook_endpoints</code>.</td></tr>",
        );
    }
    let mut list = Html::default();
    for d in &deliveries.items {
        list.push(delivery(&me, d));
    }
    if deliveries.items.is_empty() {
        list = Html::trusted("<p class=\"muted\">No deliveries.</p>");
    }
    let mut pager = Html::trusted("<nav class=\"pager\" aria-label=\"Pages\">");
    if let (true, Some(last)) = (deliveries.has_more, deliveries.items.last()) {
        let mut p = Fields::default();
        if let Some(e) = &endpoint {
            p.set("endpoint", e.as_str());
        }
        p.set("starting_after", last.id.as_str());
        pager.push(Html::trusted(format!(
            "<a rel=\"next\" href=\"/dashboard/webhooks?{}\">Older →</a>",
            Html::text(&p.encode()).as_str()
        )));
    }
    pager.push(Html::trusted("</nav>"));
    let scope = match &endpoint {
        Some(e) => Html::trusted(format!(
            "<p class=\"muted\">Deliveries to <code>{}</code>. <a href=\"/dashboard/webhooks\">All endpoints</a></p>",
            Html::text(e.as_str()).as_str()
        )),
        None => Html::default(),
    };
    let notice = match f.get("done") {
        Some("resend") => Html::trusted(
            "<div class=\"notice ok\" role=\"status\" id=\"flash\">A new delivery was queued.</div>",
        ),
        Some("test") => Html::trusted(
            "<div class=\"notice ok\" role=\"status\" id=\"flash\">A test event was queued for \
             this endpoint only. It is signed with the endpoint's secret and its attempts appear \
             below, marked <span class=\"tag\">test event</span>; it is not listed in \
             <code>/v1/events</code>.</div>",
        ),
        _ => Html::default(),
    };
    let body = fill(
        PAGE,
        &[
            ("notice", &notice),
            ("endpoints", &eps),
            ("scope", &scope),
            ("deliveries", &list),
            ("pager", &pager),
        ],
    );
    Ok(DashPage::new(&me, Section::Webhooks, "Webhooks", body))
}

/// The identity event types the endpoint receives: what a test event may be.
fn test_types(ep: &WebhookEndpoint) -> Vec<&'static str> {
    EventType::ALL
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| ep.wants(name))
        .collect()
}

/// An endpoint's **Send test event** form: a choice among its enabled identity event types.
fn test_form(me: &Me, ep: &WebhookEndpoint) -> Html {
    let types = test_types(ep);
    if ep.disabled {
        return Html::trusted("<span class=\"muted\">disabled</span>");
    }
    if types.is_empty() {
        return Html::trusted("<span class=\"muted\">no identity event types enabled</span>");
    }
    let id = Html::text(ep.id.as_str());
    let mut choice = Html::trusted(format!(
        "<label for=\"test-type-{id}\">Event type</label> \
         <select id=\"test-type-{id}\" name=\"type\">",
        id = id.as_str()
    ));
    for t in types {
        choice.push(Html::trusted(format!("<option value=\"{t}\">{t}</option>")));
    }
    choice.push(Html::trusted("</select> "));
    post_button(
        me,
        &format!("/dashboard/webhooks/endpoints/{}/test", ep.id.as_str()),
        "Send test event",
        "small",
        choice,
    )
}

fn delivery(me: &Me, d: &Delivery) -> Html {
    let state = d.state.as_str();
    let test = if test_event::is_test(&d.event_id) {
        " <span class=\"tag\">test event</span>"
    } else {
        ""
    };
    let next = match (d.state, d.next_attempt_ms) {
        (DeliveryState::Pending, Some(ms)) => {
            format!(" · next attempt {}", time_tag(ms.div_euclid(1000)).as_str())
        }
        _ => String::new(),
    };
    let mut out = Html::trusted(format!(
        "<section class=\"delivery\" aria-labelledby=\"d-{id}\"><h3 id=\"d-{id}\"><code>{id}</code> \
         <span class=\"delivery-state state-{state}\">{state}</span>{test}</h3>\
         <p class=\"muted\">{} <code>{}</code> to <code>{}</code> · created {}{next}</p>",
        Html::text(&d.event_type).as_str(),
        Html::text(d.event_id.as_str()).as_str(),
        Html::text(d.endpoint_id.as_str()).as_str(),
        time_tag(d.created_ms.div_euclid(1000)).as_str(),
        id = Html::text(d.id.as_str()).as_str(),
    ));
    if d.history.is_empty() {
        out.push(Html::trusted("<p class=\"muted\">No attempts yet.</p>"));
    } else {
        out.push(Html::trusted(
            "<div class=\"scroll\"><table class=\"attempts\"><thead><tr><th scope=\"col\">Attempt</th><th scope=\"col\">Status</th>\
             <th scope=\"col\">Latency</th><th scope=\"col\">Error</th><th scope=\"col\">Response</th></tr></thead><tbody>",
        ));
        for a in &d.history {
            let status = a
                .status
                .map_or_else(|| "no response".to_owned(), |s| s.to_string());
            let body: String = a
                .response_body
                .as_deref()
                .unwrap_or("")
                .chars()
                .take(BODY_SHOWN)
                .collect();
            out.push(Html::trusted(format!(
                "<tr><td>{}</td><td>{}</td><td>{} ms</td><td>{}</td><td class=\"wrap\"><code>{}</code></td></tr>",
                time_tag(a.at_ms.div_euclid(1000)).as_str(),
                Html::text(&status).as_str(),
                a.latency_ms,
                or_dash(a.error.as_deref()).as_str(),
                Html::text(&body).as_str(),
            )));
        }
        out.push(Html::trusted("</tbody></table></div>"));
    }
    out.push(post_button(
        me,
        &format!("/dashboard/webhooks/deliveries/{}/resend", d.id.as_str()),
        "Resend",
        "small secondary",
        Html::default(),
    ));
    out.push(Html::trusted("</section>"));
    out
}

/// `POST /dashboard/webhooks/deliveries/{id}/resend`.
pub(crate) async fn resend(
    State(dash): State<Dash>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, DashError> {
    let fields = read_form(body).await?;
    let me = me_with_csrf(&dash, &headers, &fields).await?;
    match vouch_api::handlers::webhook_deliveries::resend_delivery(&dash.app, &me.account.id, &id)
        .await
    {
        Ok(_) => Ok(see_other("/dashboard/webhooks?done=resend")),
        Err(e) => {
            let (status, message) = e.status_and_message();
            if status == axum::http::StatusCode::NOT_FOUND {
                return Err(DashError::NotFound);
            }
            let body = Html::trusted(format!(
                "<h1>Could not resend</h1><div class=\"notice error\" role=\"alert\">{}</div>\
                 <p><a href=\"/dashboard/webhooks\">Back to webhooks</a></p>",
                Html::text(&message).as_str()
            ));
            let mut page = DashPage::new(&me, Section::Webhooks, "Could not resend", body);
            page.status = status;
            Ok(page.into_response())
        }
    }
}

/// `POST /dashboard/webhooks/endpoints/{id}/test` (`type`): queues a test event to this
/// endpoint, due now.
pub(crate) async fn send_test(
    State(dash): State<Dash>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, DashError> {
    let fields = read_form(body).await?;
    let me = me_with_csrf(&dash, &headers, &fields).await?;
    let endpoint_id = WebhookEndpointId::parse(&id).ok_or(DashError::NotFound)?;
    let app = &dash.app;
    let endpoint = app
        .store
        .get_webhook_endpoint(&me.account.id, &endpoint_id)
        .await?
        .ok_or(DashError::NotFound)?;
    if endpoint.disabled {
        return Err(DashError::BadRequest(
            "This endpoint is disabled; enable it to send it a test event.".into(),
        ));
    }
    let kind = fields
        .get("type")
        .filter(|t| test_types(&endpoint).contains(t))
        .and_then(EventType::from_wire)
        .ok_or_else(|| {
            DashError::BadRequest("Choose one of the endpoint's identity event types.".into())
        })?;
    let now_ms = app.clock.now_ms();
    let delivery = {
        let mut rng = rand::thread_rng();
        Delivery {
            id: DeliveryId::generate(now_ms.div_euclid(1000), &mut rng),
            account: me.account.id.clone(),
            endpoint_id: endpoint.id.clone(),
            event_id: test_event::new_id(now_ms.div_euclid(1000), &mut rng),
            event_type: kind.as_str().to_owned(),
            created_ms: now_ms,
            state: DeliveryState::Pending,
            attempts: 0,
            next_attempt_ms: Some(now_ms),
            history: Vec::new(),
        }
    };
    app.store.insert_delivery(&delivery).await?;
    tracing::info!(
        target: "vouch::audit",
        account = %me.account.id,
        endpoint = %endpoint.id,
        event = %delivery.event_id,
        event_type = %delivery.event_type,
        delivery = %delivery.id,
        by = %principal(&dash, &me),
        "dashboard: test event queued"
    );
    Ok(see_other(&format!(
        "/dashboard/webhooks?endpoint={}&done=test",
        endpoint.id.as_str()
    )))
}
