//! The dashboard's **Send test event**: a test event of one of the endpoint's enabled
//! identity types goes to that endpoint only, signed with its secret, through the outbox (it
//! shows in the delivery log and can be resent), and never appears in `/v1/events`.

use serde_json::Value;

use crate::dashboard::DashClient;
use crate::helpers::TestApp;
use crate::receiver::Receiver;

const VERIFIED: &str = "identity.verification_session.verified";
const CANCELED: &str = "identity.verification_session.canceled";
const CREATED: &str = "identity.verification_session.created";

/// Creates an endpoint; returns (id, secret).
async fn endpoint(app: &TestApp, url: &str, events: &[&str]) -> (String, String) {
    let mut body = format!("url={url}");
    for (i, e) in events.iter().enumerate() {
        body.push_str(&format!("&enabled_events[{i}]={e}"));
    }
    let ep = app
        .post_form("/v1/webhook_endpoints", &app.test_key, &body)
        .await
        .ok();
    (
        ep["id"].as_str().unwrap().to_owned(),
        ep["secret"].as_str().unwrap().to_owned(),
    )
}

/// The `<option>` values of the endpoint's test-event choice.
fn offered(page: &str, endpoint: &str) -> Vec<String> {
    let at = page
        .find(&format!("id=\"test-type-{endpoint}\""))
        .unwrap_or_else(|| panic!("no test form for {endpoint}"));
    let select = &page[at..at + page[at..].find("</select>").unwrap()];
    select
        .split("<option value=\"")
        .skip(1)
        .map(|o| o[..o.find('"').unwrap()].to_owned())
        .collect()
}

async fn deliveries(app: &TestApp, endpoint: &str) -> Vec<Value> {
    let r = app
        .get(
            &format!("/v1/vouch/webhook_deliveries?webhook_endpoint={endpoint}"),
            &app.test_key,
        )
        .await
        .ok();
    r["data"].as_array().cloned().unwrap()
}

#[tokio::test]
async fn a_test_event_reaches_only_its_endpoint_signed_and_stays_out_of_events() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(200, "thanks").await;
    let other = Receiver::start(200, "other").await;
    let (ep, secret) = endpoint(&app, &receiver.url, &[VERIFIED, CANCELED]).await;
    let (other_ep, _) = endpoint(&app, &other.url, &["*"]).await;

    let mut dash = DashClient::new(&app);
    dash.sign_in(&app.test_key).await;
    let page = dash.get("/dashboard/webhooks").await;
    assert_eq!(offered(&page.body, &ep), vec![VERIFIED, CANCELED]);
    let everything = offered(&page.body, &other_ep);
    assert_eq!(everything.len(), 5, "`*` is every type but redacted");
    assert!(!everything.iter().any(|t| t.ends_with(".redacted")));

    let action = format!("/dashboard/webhooks/endpoints/{ep}/test");
    // A type the endpoint does not receive, and a form without its token: nothing is queued.
    let wrong = dash
        .act("/dashboard/webhooks", &action, &[("type", CREATED)])
        .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    let forged = dash.post(&action, &[("type", VERIFIED)]).await;
    assert_eq!(forged.status, 403);
    assert!(deliveries(&app, &ep).await.is_empty());

    let sent = dash
        .act("/dashboard/webhooks", &action, &[("type", VERIFIED)])
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert_eq!(
        sent.location().unwrap(),
        format!("/dashboard/webhooks?endpoint={ep}&done=test")
    );
    let hit = receiver.wait_for(1).await.remove(0);
    assert!(
        hit.signed_with(&secret),
        "signed with the endpoint's secret"
    );
    assert!(!hit.signed_with("whsec_other"));
    let event = hit.json();
    let id = event["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("evt_000000") && id.len() == 28, "{id}");
    assert_eq!(event["object"], "event");
    assert_eq!(event["type"], VERIFIED);
    assert_eq!(event["livemode"], false);
    let object = &event["data"]["object"];
    assert_eq!(object["object"], "identity.verification_session");
    assert!(object["id"].as_str().unwrap().starts_with("vs_000000"));
    assert_eq!(object["status"], "verified");
    assert_eq!(object["client_reference_id"], "vouch_test_event");
    assert_eq!(object["metadata"]["vouch_test_event"], "true");
    assert_eq!(object["url"], Value::Null);

    // In the delivery log, succeeded, marked; not an event; no other endpoint got it.
    let log = deliveries(&app, &ep).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["event"], id.as_str());
    assert_eq!(log[0]["event_type"], VERIFIED);
    let page = dash
        .get(&format!("/dashboard/webhooks?endpoint={ep}&done=test"))
        .await;
    assert!(page.body.contains("A test event was queued"));
    assert!(page.body.contains(&id) && page.body.contains(">test event</span>"));
    let events = app.get("/v1/events?limit=100", &app.test_key).await.ok();
    assert!(
        !events.to_string().contains("evt_000000"),
        "test events are not events: {events}"
    );
    app.get(&format!("/v1/events/{id}"), &app.test_key)
        .await
        .assert_status(404);
    assert!(deliveries(&app, &other_ep).await.is_empty());
    assert!(other.hits().is_empty());
    let state = loop {
        let d = deliveries(&app, &ep).await;
        if d[0]["status"] != "pending" {
            break d[0]["status"].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(state, "succeeded");

    // A resend sends the same event again.
    let delivery = log[0]["id"].as_str().unwrap();
    let resent = app
        .post_form(
            &format!("/v1/vouch/webhook_deliveries/{delivery}/resend"),
            &app.test_key,
            "",
        )
        .await
        .ok();
    assert_eq!(resent["event"], id.as_str());
    let again = receiver.wait_for(2).await.remove(1);
    assert!(again.signed_with(&secret));
    assert_eq!(
        again.json(),
        event,
        "the same event, byte for byte in meaning"
    );
    assert!(other.hits().is_empty());
}

#[tokio::test]
async fn a_disabled_endpoint_gets_no_test_event() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(200, "").await;
    let (ep, _) = endpoint(&app, &receiver.url, &["*"]).await;
    let mut dash = DashClient::new(&app);
    dash.sign_in(&app.test_key).await;
    let page = dash.get("/dashboard/webhooks").await;
    let csrf = page.csrf();
    app.post_form(
        &format!("/v1/webhook_endpoints/{ep}"),
        &app.test_key,
        "disabled=true",
    )
    .await
    .ok();
    let page = dash.get("/dashboard/webhooks").await;
    assert!(!page.body.contains(&format!("test-type-{ep}")));
    let refused = dash
        .post(
            &format!("/dashboard/webhooks/endpoints/{ep}/test"),
            &[("csrf", &csrf), ("type", VERIFIED)],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(deliveries(&app, &ep).await.is_empty());
    // Another account's endpoint does not exist for this sign-in.
    let mut live = DashClient::new(&app);
    live.sign_in(&app.live_key).await;
    let page = live.get("/dashboard/webhooks").await;
    let csrf = page.csrf();
    let foreign = live
        .post(
            &format!("/dashboard/webhooks/endpoints/{ep}/test"),
            &[("csrf", &csrf), ("type", VERIFIED)],
        )
        .await;
    assert_eq!(foreign.status, 404);
}
