//! Who is signed in to the dashboard, and what the audit trail keeps: keys created at runtime
//! sign in and lose their sign-ins when revoked (on every node); every image view is recorded
//! in the database (file, session, who, when) and shown on the session's page, before and
//! after redaction.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::dashboard::DashClient;
use crate::helpers::TestApp;
use crate::hosted_page::{carried_query, link, upload, PageClient};
use crate::png::png;

const PASSWORD: &str = "correct horse battery";

/// Creates a runtime key with the test key; returns (id, secret).
async fn created_key(app: &TestApp) -> (String, String) {
    let k = app
        .post_form("/v1/vouch/api_keys", &app.test_key, "name=dashboard")
        .await
        .ok();
    (
        k["id"].as_str().unwrap().to_owned(),
        k["secret"].as_str().unwrap().to_owned(),
    )
}

async fn revoke(app: &TestApp, id: &str) {
    app.post_form(
        &format!("/v1/vouch/api_keys/{id}/revoke"),
        &app.test_key,
        "",
    )
    .await
    .ok();
}

#[tokio::test]
async fn created_keys_sign_in_and_revoking_one_ends_its_sign_ins_on_every_node() {
    let app = TestApp::spawn().await;
    let s = app.create_ok("type=document").await;
    let sid = s["id"].as_str().unwrap();
    let (key_id, secret) = created_key(&app).await;

    let mut dash = DashClient::new(&app);
    dash.sign_in(&secret).await;
    let page = dash.get("/dashboard/sessions").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(sid), "the key's account's sessions");
    assert!(
        page.body
            .contains(&format!("id=\"signed-in-key\">{key_id}<")),
        "the header names the key"
    );
    assert!(page.body.contains("Test mode"));
    let cookie = dash.cookie("vouch_dashboard").unwrap();
    assert!(
        !cookie.contains(&secret),
        "the secret is never in the cookie"
    );

    // The same sign-in on a second node (which now has the key cached as valid).
    let peer = app.peer().await;
    let mut on_peer = DashClient::new(&peer);
    on_peer.set_cookie("vouch_dashboard", &cookie);
    assert_eq!(on_peer.get("/dashboard/sessions").await.status, 200);

    revoke(&app, &key_id).await;
    // At once on the node that revoked: pages and forms send to the sign-in page.
    let page = dash.get("/dashboard/sessions").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location().as_deref(), Some("/dashboard/login"));
    let form = dash
        .post(&format!("/dashboard/sessions/{sid}/cancel"), &[])
        .await;
    assert_eq!(form.status, 303);
    assert_eq!(
        app.retrieve_session(sid, "").await.ok()["status"],
        "requires_input",
        "nothing changed"
    );
    // On the other node once its cache entry ends (5 s, `vouch_api::keys::CACHE_TTL`).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page = on_peer.get("/dashboard/sessions").await;
        if page.status == 303 {
            assert_eq!(page.location().as_deref(), Some("/dashboard/login"));
            break;
        }
        assert_eq!(page.status, 200);
        assert!(Instant::now() < deadline, "the revoked key still works");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // And the key cannot sign in again.
    let mut again = DashClient::new(&app);
    let refused = again
        .sign_in_with(&[("kind", "key"), ("key", &secret)])
        .await;
    assert_eq!(refused.status, 401);
    assert!(!refused.body.contains(&secret));
}

#[tokio::test]
async fn a_created_key_of_another_account_sees_only_that_account() {
    let app = TestApp::spawn().await;
    let test_session = app.create_ok("type=document").await;
    let live = app
        .post_form("/v1/vouch/api_keys", &app.live_key, "")
        .await
        .ok();
    let mut dash = DashClient::new(&app);
    dash.sign_in(live["secret"].as_str().unwrap()).await;
    let home = dash.get("/dashboard").await;
    assert!(home.body.contains("Live mode"), "{}", home.body);
    let other = dash
        .get(&format!(
            "/dashboard/sessions/{}",
            test_session["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(other.status, 404);
}

/// A document session that went through the hosted page with a front and a back image;
/// returns (session id, file ids).
async fn session_with_images(app: &TestApp) -> (String, Vec<String>) {
    let page = PageClient::new(app);
    let s = app.create_ok("type=document").await;
    let id = s["id"].as_str().unwrap().to_owned();
    let link = link(&s);
    let front = png(40, 30, Some("front"));
    let back = png(40, 30, Some("back"));
    let details = upload(
        &page,
        &link,
        "id_card",
        &[("front", &front), ("back", &back)],
    )
    .await;
    let body = format!("{}&outcome=verified", carried_query(&details));
    let r = page.post_form(&format!("{link}/submit"), &body).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let s = app
        .retrieve_session(&id, "expand[0]=last_verification_report")
        .await
        .ok();
    let files = s["last_verification_report"]["document"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect();
    (id, files)
}

/// The rows of the session page's image-view table: (file, viewer).
fn views(page: &str) -> Vec<(String, String)> {
    let Some(at) = page.find("id=\"image-views\"") else {
        return Vec::new();
    };
    let table = &page[at..page[at..].find("</table>").map_or(page.len(), |e| at + e)];
    table
        .split("<tr><td>")
        .skip(1)
        .map(|row| {
            let codes: Vec<&str> = row
                .split("<code>")
                .skip(1)
                .map(|c| &c[..c.find("</code>").unwrap()])
                .collect();
            (codes[0].to_owned(), codes[1].to_owned())
        })
        .collect()
}

#[tokio::test]
async fn image_views_are_recorded_with_who_and_kept_through_redaction() {
    let app = TestApp::builder()
        .env("VOUCH_DASHBOARD_PASSWORD", PASSWORD)
        .spawn()
        .await;
    let (sid, files) = session_with_images(&app).await;
    assert_eq!(files.len(), 2);
    let keys = app.get("/v1/vouch/api_keys", &app.test_key).await.ok();
    let configured: &Value = &keys["data"][0];
    assert_eq!(configured["source"], "config");
    let configured_id = configured["id"].as_str().unwrap();

    let mut dash = DashClient::new(&app);
    dash.sign_in(&app.test_key).await;
    let detail = format!("/dashboard/sessions/{sid}");
    let before = dash.get(&detail).await;
    assert!(before
        .body
        .contains("No one has viewed this session's images."));
    // The images page lists the files; only fetching an image counts as viewing it.
    let images = dash.get(&format!("{detail}/images")).await;
    assert_eq!(images.status, 200);
    for f in &files {
        assert!(images.body.contains(&format!("/dashboard/files/{f}")));
    }
    assert!(views(&dash.get(&detail).await.body).is_empty());

    let image = dash.get(&format!("/dashboard/files/{}", files[0])).await;
    assert_eq!(image.status, 200);
    assert_eq!(image.headers["content-type"], "image/png");
    // The operator views the other one, and a created key the first again.
    let mut operator = DashClient::new(&app);
    let ok = operator
        .sign_in_with(&[("kind", "operator"), ("password", PASSWORD)])
        .await;
    assert_eq!(ok.status, 303);
    assert_eq!(
        operator
            .get(&format!("/dashboard/files/{}", files[1]))
            .await
            .status,
        200
    );
    let (key_id, secret) = created_key(&app).await;
    let mut by_key = DashClient::new(&app);
    by_key.sign_in(&secret).await;
    assert_eq!(
        by_key
            .get(&format!("/dashboard/files/{}", files[0]))
            .await
            .status,
        200
    );
    let expected = vec![
        (files[0].clone(), key_id.clone()),
        (files[1].clone(), "operator".to_owned()),
        (files[0].clone(), configured_id.to_owned()),
    ];
    let page = dash.get(&detail).await;
    assert_eq!(views(&page.body), expected, "newest first");

    // Another account's file is not served, and nothing is recorded for it.
    let mut live = DashClient::new(&app);
    live.sign_in(&app.live_key).await;
    assert_eq!(
        live.get(&format!("/dashboard/files/{}", files[0]))
            .await
            .status,
        404
    );

    // Redaction deletes the files; the record of the views stays, ids only.
    app.redact(&sid).await.ok();
    app.wait_until_redacted(&sid, "").await;
    assert_eq!(
        dash.get(&format!("/dashboard/files/{}", files[0]))
            .await
            .status,
        404
    );
    let page = dash.get(&detail).await;
    assert_eq!(views(&page.body), expected);
    assert!(page
        .body
        .contains("The images were erased at redaction; the record of who viewed them stays."));
}
