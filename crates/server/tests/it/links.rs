//! Issue 3: a session's `url` works for 48 hours and its `client_secret` for 24, both once.
//! To get past those times the server restarts with its clock ahead (`--clock-offset`, a
//! testing extension; `TestApp::restart_shifted`).

use serde_json::Value;

use crate::helpers::{run_cli_env, TestApp};
use crate::hosted_page::{link, PageClient};

const EXPIRED: &str = "This link has expired";
const USED: &str = "This link was already used or has expired";
const SUBMIT_SUCCESS: &str = "consent=yes&document_type=passport&outcome=verified";

/// The session as the list shows it (a list never mints fresh secrets; a retrieve may).
async fn listed(app: &TestApp, id: &str) -> Value {
    let list = app.list_sessions("limit=100").await.ok();
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} not listed: {list}"))
}

#[tokio::test]
async fn an_expired_url_shows_the_expired_page_and_retrieve_mints_a_working_pair() {
    let mut app = TestApp::spawn().await;
    let s = app
        .create_ok("type=document&return_url=https%3A%2F%2Fshop.example%2Fback")
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    let old_link = link(&s);
    let old_secret = s["client_secret"].as_str().unwrap().to_string();

    // 47 hours on, the url still works.
    app.restart_shifted("47h").await;
    assert!(
        app.wait_for_log_line("SHIFTED").await.is_some(),
        "the banner says the clock is shifted: {}",
        app.current_logs()
    );
    let page = PageClient::new(&app);
    assert_eq!(page.get(&old_link).await.status, 200);
    assert!(listed(&app, &id).await["url"]
        .as_str()
        .unwrap()
        .ends_with(&old_link));

    // 49 hours on, it does not: the expired page, on every step of the link.
    app.restart_shifted("49h").await;
    let page = PageClient::new(&app);
    let expired = page.get(&old_link).await;
    assert_eq!(expired.status, 410, "{}", expired.text);
    assert!(expired.text.contains(EXPIRED), "{}", expired.text);
    assert!(
        expired.text.contains("href=\"https://shop.example/back\""),
        "a way back to return_url: {}",
        expired.text
    );
    let submit = page
        .post_form(&format!("{old_link}/submit"), SUBMIT_SUCCESS)
        .await;
    assert_eq!(submit.status, 410, "{}", submit.text);
    assert!(submit.text.contains(EXPIRED), "{}", submit.text);
    let l = listed(&app, &id).await;
    assert_eq!(l["status"], "requires_input");
    assert_eq!(l["url"], Value::Null, "{l}");
    assert_eq!(l["client_secret"], Value::Null, "{l}");

    // Retrieving the requires_input session mints a fresh pair, as at Stripe.
    let fresh = app.retrieve_session(&id, "").await.ok();
    let secret = fresh["client_secret"]
        .as_str()
        .expect("a fresh client_secret");
    assert_ne!(secret, old_secret);
    assert!(
        secret.starts_with(&format!("{id}_secret_test_")),
        "{secret}"
    );
    let new_link = link(&fresh);
    assert_ne!(new_link, old_link);
    // Fresh means fresh: a second retrieve shows the same pair.
    let again = app.retrieve_session(&id, "").await.ok();
    assert_eq!(again["client_secret"], fresh["client_secret"]);
    assert_eq!(again["url"], fresh["url"]);
    // The old link stays dead (replaced now: the general page), the new one works.
    let replaced = page.get(&old_link).await;
    assert_eq!(replaced.status, 410);
    assert!(replaced.text.contains(USED), "{}", replaced.text);
    assert_eq!(page.get(&new_link).await.status, 200);
    let r = page
        .post_form(&format!("{new_link}/submit"), SUBMIT_SUCCESS)
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let done = app.retrieve_session(&id, "").await.ok();
    assert_eq!(done["status"], "verified", "{done}");
    assert_eq!(done["client_secret"], Value::Null);

    // Used once: the used page, not the expired one.
    let used = page.get(&new_link).await;
    assert_eq!(used.status, 410);
    assert!(used.text.contains(USED), "{}", used.text);
    assert!(!used.text.contains(EXPIRED), "{}", used.text);
}

#[tokio::test]
async fn a_client_secret_past_24_hours_is_withdrawn_while_the_url_lasts_48() {
    let mut app = TestApp::spawn().await;
    let s = app.create_ok("type=document").await;
    let id = s["id"].as_str().unwrap().to_string();
    let old_link = link(&s);

    app.restart_shifted("23h").await;
    assert_eq!(listed(&app, &id).await["client_secret"], s["client_secret"]);

    // vouch takes client secrets nowhere as input; past 24 hours it stops handing the
    // old one out, while the url (48 hours) still opens.
    app.restart_shifted("25h").await;
    let page = PageClient::new(&app);
    let l = listed(&app, &id).await;
    assert_eq!(l["client_secret"], Value::Null, "{l}");
    assert!(l["url"].as_str().unwrap().ends_with(&old_link), "{l}");
    assert_eq!(page.get(&old_link).await.status, 200);

    // A retrieve replaces both: Stripe's client integrations need the pair.
    let fresh = app.retrieve_session(&id, "").await.ok();
    let secret = fresh["client_secret"]
        .as_str()
        .expect("a fresh client_secret");
    assert_ne!(Some(secret), s["client_secret"].as_str());
    let new_link = link(&fresh);
    assert_ne!(new_link, old_link);
    assert_eq!(page.get(&old_link).await.status, 410);
    assert_eq!(page.get(&new_link).await.status, 200);
}

#[tokio::test]
async fn a_shifted_clock_is_refused_with_live_keys() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("v.db").display());
    let args = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        &db,
        "--api-key",
        "sk_live_aaaaaaaaaaaaaaaa",
    ];
    let (st, _, err) = run_cli_env(&args, &[("VOUCH_CLOCK_OFFSET", "49h")]).await;
    assert!(
        !st.success(),
        "a shifted clock with a live key must not start"
    );
    assert!(err.contains("refused with live keys"), "{err}");
    assert!(
        !dir.path().join("v.db").exists(),
        "refused before opening the database"
    );
}
