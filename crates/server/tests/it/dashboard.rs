//! The dashboard over HTTP: sign-in, the cookie, CSRF, escaping, accounts kept apart, and
//! actions that change the session and record its events.

use reqwest::redirect::Policy;
use serde_json::Value;

use crate::helpers::{TestApp, SESSIONS};

/// A browser without a browser: one cookie jar (the dashboard's two cookies), no redirects
/// followed.
pub struct DashClient {
    pub base: String,
    client: reqwest::Client,
    cookies: Vec<(String, String)>,
}

/// A response: status, `Set-Cookie` headers, `Location`, body.
pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<String> {
        self.headers
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// The first CSRF token on the page.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no CSRF field in {}", self.body));
        let rest = &self.body[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

impl DashClient {
    pub fn new(app: &TestApp) -> DashClient {
        DashClient {
            base: app.base_url.clone(),
            client: reqwest::Client::builder()
                .no_proxy()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let req = if self.cookies.is_empty() {
            req
        } else {
            req.header("cookie", self.cookie_header())
        };
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let set_cookies: Vec<String> = headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for c in &set_cookies {
            let pair = c.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            if !value.is_empty() && !c.contains("Max-Age=0") {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
        Page {
            status,
            headers,
            set_cookies,
            body: resp.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .form(fields);
        self.send(req).await
    }

    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.retain(|(n, _)| n != name);
        self.cookies.push((name.to_owned(), value.to_owned()));
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    /// Signs in with a secret key; returns the response to the sign-in POST.
    pub async fn sign_in_with(&mut self, fields: &[(&str, &str)]) -> Page {
        let form = self.get("/dashboard/login").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post("/dashboard/login", &all).await
    }

    pub async fn sign_in(&mut self, key: &str) {
        let resp = self.sign_in_with(&[("kind", "key"), ("key", key)]).await;
        assert_eq!(resp.status, 303, "{}", resp.body);
        assert_eq!(resp.location().as_deref(), Some("/dashboard"));
    }

    /// Posts a form found on `page_path` (its CSRF token) to `action`.
    pub async fn act(&mut self, page_path: &str, action: &str, extra: &[(&str, &str)]) -> Page {
        let page = self.get(page_path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let csrf = page.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(extra);
        self.post(action, &all).await
    }
}

async fn session(app: &TestApp, key: &str, body: &str) -> Value {
    app.create_session_as(key, body).await.ok()
}

#[tokio::test]
async fn every_page_requires_sign_in() {
    let app = TestApp::spawn().await;
    let s = session(&app, &app.test_key, "type=document").await;
    let id = s["id"].as_str().unwrap();
    let mut dash = DashClient::new(&app);
    for path in [
        "/dashboard".to_owned(),
        "/dashboard/sessions".to_owned(),
        format!("/dashboard/sessions/{id}"),
        format!("/dashboard/sessions/{id}/images"),
        "/dashboard/webhooks".to_owned(),
    ] {
        let resp = dash.get(&path).await;
        assert_eq!(resp.status, 303, "{path}");
        assert_eq!(
            resp.location().as_deref(),
            Some("/dashboard/login"),
            "{path}"
        );
    }
    let resp = dash
        .post(
            &format!("/dashboard/sessions/{id}/cancel"),
            &[("csrf", "x")],
        )
        .await;
    assert_eq!(resp.status, 303);
    assert_eq!(resp.location().as_deref(), Some("/dashboard/login"));
    assert_eq!(
        app.retrieve_session(id, "").await.ok()["status"],
        "requires_input"
    );
    // A forged or tampered cookie is no sign-in either.
    dash.sign_in(&app.test_key).await;
    let good = dash.cookie("vouch_dashboard").unwrap();
    let mut fields: Vec<String> = good.split('.').map(str::to_owned).collect();
    assert_eq!(fields.len(), 5, "{good}");
    fields[2] = (fields[2].parse::<i64>().unwrap() + 3600).to_string();
    let later = fields.join(".");
    for bad in [
        "k.acct_0.99999999999.n.00".to_owned(),
        format!("{good}0"),
        format!("o{}", &good[1..]),
        format!("x{}", &good[1..]),
        later,
    ] {
        dash.set_cookie("vouch_dashboard", &bad);
        let resp = dash.get("/dashboard/sessions").await;
        assert_eq!(resp.status, 303, "cookie {bad}");
    }
}

#[tokio::test]
async fn a_wrong_key_is_refused_and_never_echoed() {
    let app = TestApp::spawn().await;
    let mut dash = DashClient::new(&app);
    let wrong = format!("{}x", app.test_key);
    for key in [wrong.as_str(), "pk_test_abcdefghijkl", ""] {
        let resp = dash.sign_in_with(&[("kind", "key"), ("key", key)]).await;
        assert_eq!(resp.status, 401, "{key}");
        assert!(resp.body.contains("role=\"alert\""));
        if !key.is_empty() {
            assert!(!resp.body.contains(key));
        }
        assert!(dash.cookie("vouch_dashboard").is_none());
    }
    // No operator password configured: the operator form is refused too.
    let resp = dash
        .sign_in_with(&[("kind", "operator"), ("password", "anything-at-all")])
        .await;
    assert_eq!(resp.status, 401);
    assert!(dash.cookie("vouch_dashboard").is_none());
}

#[tokio::test]
async fn the_session_cookie_is_httponly_strict_and_expiring() {
    let app = TestApp::spawn().await;
    let mut dash = DashClient::new(&app);
    let form = dash.get("/dashboard/login").await;
    assert_eq!(form.status, 200);
    let csp = form.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert!(form.body.contains("type=\"password\""));
    let resp = dash
        .sign_in_with(&[("kind", "key"), ("key", &app.test_key)])
        .await;
    assert_eq!(resp.status, 303);
    let session_cookie = resp
        .set_cookies
        .iter()
        .find(|c| c.starts_with("vouch_dashboard="))
        .unwrap_or_else(|| panic!("{:?}", resp.set_cookies));
    for flag in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/dashboard",
        "Max-Age=28800",
    ] {
        assert!(session_cookie.contains(flag), "{flag} in {session_cookie}");
    }
    // The key itself is never in the cookie.
    assert!(!session_cookie.contains(&app.test_key));
    // The pre-sign-in cookie is cleared.
    assert!(resp
        .set_cookies
        .iter()
        .any(|c| c.starts_with("vouch_dashboard_login=;") && c.contains("Max-Age=0")));
    let home = dash.get("/dashboard").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("Test mode"));
    // Sign out clears it.
    let out = dash.act("/dashboard", "/dashboard/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert!(out
        .set_cookies
        .iter()
        .any(|c| c.starts_with("vouch_dashboard=;") && c.contains("Max-Age=0")));
    assert_eq!(dash.get("/dashboard").await.status, 303);
}

#[tokio::test]
async fn forms_without_the_right_csrf_token_are_refused() {
    let app = TestApp::spawn().await;
    let s = session(&app, &app.test_key, "type=document").await;
    let id = s["id"].as_str().unwrap();
    let mut dash = DashClient::new(&app);
    // The sign-in form needs its own token (and cookie).
    let resp = dash
        .post(
            "/dashboard/login",
            &[("kind", "key"), ("key", app.test_key.as_str())],
        )
        .await;
    assert_eq!(resp.status, 403);
    assert!(dash.cookie("vouch_dashboard").is_none());
    dash.sign_in(&app.test_key).await;
    for action in ["cancel", "redact", "verify"] {
        let path = format!("/dashboard/sessions/{id}/{action}");
        assert_eq!(dash.post(&path, &[]).await.status, 403, "{action}");
        let wrong = dash
            .post(&path, &[("csrf", "0123456789abcdef0123456789abcdef")])
            .await;
        assert_eq!(wrong.status, 403, "{action}");
    }
    assert_eq!(dash.post("/dashboard/logout", &[]).await.status, 403);
    let s = app.retrieve_session(id, "").await.ok();
    assert_eq!(s["status"], "requires_input");
    assert_eq!(s["redaction"], Value::Null);
    // A token from another sign-in does not work either.
    let mut other = DashClient::new(&app);
    other.sign_in(&app.test_key).await;
    let their_token = other.get("/dashboard").await.csrf();
    let resp = dash
        .post(
            &format!("/dashboard/sessions/{id}/cancel"),
            &[("csrf", their_token.as_str())],
        )
        .await;
    assert_eq!(resp.status, 403);
}

#[tokio::test]
async fn values_are_escaped_everywhere() {
    let app = TestApp::spawn().await;
    let s = session(
        &app,
        &app.test_key,
        "type=document&metadata[note]=%3Cscript%3Ealert(1)%3C%2Fscript%3E\
         &metadata[%3Cb%3Ekey]=x%22y&client_reference_id=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
    )
    .await;
    let id = s["id"].as_str().unwrap();
    let mut dash = DashClient::new(&app);
    dash.sign_in(&app.test_key).await;
    let list = dash.get("/dashboard/sessions").await;
    let detail = dash.get(&format!("/dashboard/sessions/{id}")).await;
    let search = dash
        .get("/dashboard/sessions?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
        .await;
    for page in [&list, &detail, &search] {
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(!page.body.contains("<script>alert"), "{}", page.body);
        assert!(!page.body.contains("<img src=x"), "{}", page.body);
        assert!(page.body.contains("&lt;img src=x onerror=alert(1)&gt;"));
    }
    assert!(detail
        .body
        .contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(detail.body.contains("&lt;b&gt;key"));
    assert!(detail.body.contains("x&quot;y"));
    assert!(search.body.contains(id), "search by client_reference_id");
}

#[tokio::test]
async fn another_accounts_sessions_are_not_visible() {
    let app = TestApp::spawn().await;
    let live = session(
        &app,
        &app.live_key,
        "type=document&client_reference_id=live-one",
    )
    .await;
    let live_id = live["id"].as_str().unwrap();
    let test = session(
        &app,
        &app.test_key,
        "type=document&client_reference_id=test-one",
    )
    .await;
    let test_id = test["id"].as_str().unwrap();
    let mut dash = DashClient::new(&app);
    dash.sign_in(&app.test_key).await;
    let list = dash.get("/dashboard/sessions").await;
    assert!(list.body.contains(test_id));
    assert!(!list.body.contains(live_id));
    assert_eq!(
        dash.get(&format!("/dashboard/sessions/{live_id}"))
            .await
            .status,
        404
    );
    assert!(!dash
        .get(&format!("/dashboard/sessions?q={live_id}"))
        .await
        .body
        .contains("live-one"));
    let resp = dash
        .act(
            "/dashboard",
            &format!("/dashboard/sessions/{live_id}/cancel"),
            &[],
        )
        .await;
    assert_eq!(resp.status, 404);
    assert_eq!(
        app.retrieve_session_as(&app.live_key, live_id).await["status"],
        "requires_input"
    );
    // A key-signed-in person cannot switch accounts.
    let page = dash.get("/dashboard").await;
    assert!(!page.body.contains("account-choice"));
    let live_account = dash.get("/dashboard").await;
    assert!(live_account.body.contains("Test mode"));
    // The live key sees the live session, with the live banner.
    let mut live_dash = DashClient::new(&app);
    live_dash.sign_in(&app.live_key).await;
    let page = live_dash
        .get(&format!("/dashboard/sessions/{live_id}"))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Live mode"));
    assert!(page.body.contains("mode-live"));
    // Live sessions offer no test-mode outcomes.
    assert!(!page.body.contains("/verify\""));
}

#[tokio::test]
async fn actions_change_the_session_and_record_events() {
    let app = TestApp::spawn().await;
    let a = session(&app, &app.test_key, "type=document&metadata[order]=A-1").await;
    let b = session(&app, &app.test_key, "type=document").await;
    let c = session(&app, &app.test_key, "type=id_number").await;
    let (a, b, c) = (
        a["id"].as_str().unwrap(),
        b["id"].as_str().unwrap(),
        c["id"].as_str().unwrap(),
    );
    let mut dash = DashClient::new(&app);
    dash.sign_in(&app.test_key).await;

    // verify
    let page = format!("/dashboard/sessions/{a}");
    let resp = dash.act(&page, &format!("{page}/verify"), &[]).await;
    assert_eq!(resp.status, 303, "{}", resp.body);
    assert_eq!(resp.location().unwrap(), format!("{page}?done=verify"));
    let s = app.retrieve_session(a, "").await.ok();
    assert_eq!(s["status"], "verified");
    let detail = dash.get(&format!("{page}?done=verify")).await;
    assert!(detail
        .body
        .contains("identity.verification_session.verified"));
    assert!(detail.body.contains("role=\"status\""));
    assert!(detail.body.contains("check-verified"));
    let events = app
        .get(
            "/v1/events?type=identity.verification_session.verified",
            &app.test_key,
        )
        .await
        .ok();
    let event = &events["data"][0];
    assert_eq!(event["data"]["object"]["id"], a);
    assert!(event["request"]["id"].as_str().unwrap().starts_with("req_"));

    // unverify with a chosen error
    let page = format!("/dashboard/sessions/{c}");
    let detail = dash.get(&page).await;
    assert!(detail.body.contains("value=\"id_number_mismatch\""));
    let resp = dash
        .act(
            &page,
            &format!("{page}/unverify"),
            &[("code", "id_number_mismatch")],
        )
        .await;
    assert_eq!(resp.status, 303, "{}", resp.body);
    let s = app.retrieve_session(c, "").await.ok();
    assert_eq!(s["status"], "requires_input");
    assert_eq!(s["last_error"]["code"], "id_number_mismatch");
    let detail = dash.get(&page).await;
    assert!(detail.body.contains("id_number_mismatch"));
    assert!(detail
        .body
        .contains("identity.verification_session.requires_input"));

    // an action the state machine refuses shows its message
    let page_a = format!("/dashboard/sessions/{a}");
    let resp = dash.act(&page_a, &format!("{page_a}/cancel"), &[]).await;
    assert_eq!(resp.status, 400, "{}", resp.body);
    assert!(resp.body.contains("role=\"alert\""));

    // cancel
    let page = format!("/dashboard/sessions/{b}");
    let resp = dash.act(&page, &format!("{page}/cancel"), &[]).await;
    assert_eq!(resp.status, 303, "{}", resp.body);
    assert_eq!(app.retrieve_session(b, "").await.ok()["status"], "canceled");
    assert!(dash
        .get(&page)
        .await
        .body
        .contains("identity.verification_session.canceled"));

    // redact: placeholders only, never the data
    let resp = dash.act(&page_a, &format!("{page_a}/redact"), &[]).await;
    assert_eq!(resp.status, 303, "{}", resp.body);
    let detail = dash.get(&page_a).await;
    assert!(detail.body.contains("[redacted]"));
    assert!(!detail.body.contains("A-1"));
    assert!(!detail.body.contains("Jenny"));
    app.wait_until_redacted(a, "").await;
    let detail = dash.get(&page_a).await;
    assert!(!detail.body.contains("A-1") && !detail.body.contains("Jenny"));
    assert!(detail
        .body
        .contains("identity.verification_session.redacted"));
    let list = dash.get("/dashboard/sessions?status=verified").await;
    assert!(list.body.contains(a) && list.body.contains("[redacted]"));
}

#[tokio::test]
async fn list_filters_searches_counts_and_pages() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for i in 0..28 {
        let s = session(
            &app,
            &app.test_key,
            &format!(
                "type=document&client_reference_id=ref-{i}&related_customer=cus_{}",
                i % 2
            ),
        )
        .await;
        ids.push(s["id"].as_str().unwrap().to_owned());
    }
    app.test_verify(&ids[3]).await.ok();
    let mut dash = DashClient::new(&app);
    dash.sign_in(&app.test_key).await;
    let all = dash.get("/dashboard/sessions").await;
    assert!(all.body.contains("All <span class=\"count\">28</span>"));
    assert!(all.body.contains("verified <span class=\"count\">1</span>"));
    assert!(all
        .body
        .contains("requires input <span class=\"count\">27</span>"));
    assert!(all.body.contains(&ids[27]) && !all.body.contains(&ids[2]));
    // the next page, then back
    let older = all.body.find("rel=\"next\" href=\"").unwrap();
    let href = &all.body[older + 17..];
    let href = href[..href.find('"').unwrap()].replace("&amp;", "&");
    let page2 = dash.get(&href).await;
    assert!(page2.body.contains(&ids[0]) && !page2.body.contains(&ids[27]));
    assert!(page2.body.contains("rel=\"prev\""));
    let verified = dash.get("/dashboard/sessions?status=verified").await;
    assert!(verified.body.contains(&ids[3]) && !verified.body.contains(&ids[4]));
    let by_ref = dash.get("/dashboard/sessions?q=ref-5").await;
    assert!(by_ref.body.contains(&ids[5]) && !by_ref.body.contains(&ids[6]));
    let by_id = dash.get(&format!("/dashboard/sessions?q={}", ids[7])).await;
    assert!(by_id
        .body
        .contains(&format!("/dashboard/sessions/{}", ids[7])));
    assert!(!by_id
        .body
        .contains(&format!("/dashboard/sessions/{}\"", ids[8])));
    let by_customer = dash.get("/dashboard/sessions?q=cus_1").await;
    assert!(by_customer.body.contains(&ids[9]) && !by_customer.body.contains(&ids[10]));
    // the overview draws its charts inline
    let overview = dash.get("/dashboard").await;
    assert!(overview
        .body
        .contains("<svg class=\"chart\" id=\"chart-outcomes\""));
    assert!(overview
        .body
        .contains("28 sessions created in the last 30 days"));
    assert!(!overview.body.contains("<script>") && !overview.body.contains("https://"));
}

#[tokio::test]
async fn the_operator_password_chooses_among_accounts() {
    let app = TestApp::builder()
        .env("VOUCH_DASHBOARD_PASSWORD", "correct horse battery")
        .spawn()
        .await;
    let live = session(&app, &app.live_key, "type=document").await;
    let live_id = live["id"].as_str().unwrap();
    let mut dash = DashClient::new(&app);
    let wrong = dash
        .sign_in_with(&[("kind", "operator"), ("password", "correct horse")])
        .await;
    assert_eq!(wrong.status, 401);
    let ok = dash
        .sign_in_with(&[("kind", "operator"), ("password", "correct horse battery")])
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let home = dash.get("/dashboard").await;
    assert!(home.body.contains("Test mode") && home.body.contains("account-choice"));
    let live_account = home
        .body
        .split("<option value=\"")
        .skip(1)
        .map(|o| o[..o.find('"').unwrap()].to_owned())
        .find(|a| o_is_live(&home.body, a))
        .unwrap();
    let resp = dash
        .act(
            "/dashboard",
            "/dashboard/account",
            &[("account", &live_account)],
        )
        .await;
    assert_eq!(resp.status, 303);
    let page = dash.get(&format!("/dashboard/sessions/{live_id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Live mode"));
    // An account that is not configured cannot be chosen.
    let resp = dash
        .act(
            "/dashboard",
            "/dashboard/account",
            &[("account", "acct_000000000000000000000000")],
        )
        .await;
    assert_eq!(resp.status, 400);
}

fn o_is_live(body: &str, account: &str) -> bool {
    body.contains(&format!("{account} (live)"))
}

#[tokio::test]
async fn webhooks_show_deliveries_and_resend() {
    let app = TestApp::spawn().await;
    // An endpoint nobody listens on: deliveries fail and are recorded.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let ep = app
        .post_form(
            "/v1/webhook_endpoints",
            &app.test_key,
            &format!(
                "url=http://127.0.0.1:{port}/hook&enabled_events[0]=*&description=%3Cb%3Emine"
            ),
        )
        .await
        .ok();
    let ep_id = ep["id"].as_str().unwrap();
    session(&app, &app.test_key, "type=document").await;
    let deliveries = loop {
        let d = app
            .get("/v1/vouch/webhook_deliveries", &app.test_key)
            .await
            .ok();
        if d["data"][0]["attempts"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            break d;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let delivery = deliveries["data"][0]["id"].as_str().unwrap().to_owned();
    let mut dash = DashClient::new(&app);
    dash.sign_in(&app.test_key).await;
    let page = dash.get("/dashboard/webhooks").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(ep_id) && page.body.contains(&delivery));
    assert!(page.body.contains("&lt;b&gt;mine"));
    assert!(page.body.contains("no response"));
    let resp = dash
        .act(
            "/dashboard/webhooks",
            &format!("/dashboard/webhooks/deliveries/{delivery}/resend"),
            &[],
        )
        .await;
    assert_eq!(resp.status, 303, "{}", resp.body);
    let after = app
        .get("/v1/vouch/webhook_deliveries", &app.test_key)
        .await
        .ok();
    assert_eq!(
        after["data"].as_array().unwrap().len(),
        deliveries["data"].as_array().unwrap().len() + 1
    );
}

#[tokio::test]
async fn the_cookie_secret_is_kept_in_the_store_across_restarts() {
    let mut app = TestApp::spawn().await;
    let mut dash = DashClient::new(&app);
    dash.sign_in(&app.test_key).await;
    app.restart().await;
    dash.base = app.base_url.clone();
    let page = dash.get("/dashboard/sessions").await;
    assert_eq!(page.status, 200, "still signed in after a restart");
}

/// `GET` of a session through the API with another key.
trait RetrieveAs {
    async fn retrieve_session_as(&self, key: &str, id: &str) -> Value;
}

impl RetrieveAs for TestApp {
    async fn retrieve_session_as(&self, key: &str, id: &str) -> Value {
        self.get(&format!("{SESSIONS}/{id}"), key).await.ok()
    }
}
