//! The hosted page in headless Chromium (Debian's `chromium` + `chromedriver`, driven over
//! WebDriver with fantoccini): a person's paths through the page, checked against the API
//! afterwards. Every page state is saved as a screenshot, desktop (1280 px) and phone
//! (375 px) wide, under `target/browser-artifacts/`.
//!
//! Without chromium/chromedriver the tests print a loud SKIPPED line; with
//! `VOUCH_REQUIRE_BROWSER=1` (CI) they fail instead.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../it/helpers.rs"]
#[allow(dead_code)]
mod helpers;
#[path = "../it/mrz.rs"]
mod mrz;
#[path = "../../../store/tests/support/pg.rs"]
#[allow(dead_code)]
mod pg;
#[path = "../it/png.rs"]
mod png;
#[path = "../it/receiver.rs"]
mod receiver;

mod dashboard;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use helpers::TestApp;

const TAB: char = '\u{e004}';
const ENTER: char = '\u{e007}';
const SPACE: char = '\u{e00d}';

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
        .join("browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A chromedriver process and one headless Chromium session.
struct Browser {
    client: Client,
    driver: tokio::process::Child,
    _profile: tempfile::TempDir,
    /// Prefix of this test's screenshots.
    name: String,
}

impl Browser {
    /// None (after a loud SKIPPED line) when chromium or chromedriver is missing.
    async fn start(name: &str) -> Option<Browser> {
        let (chromium, driver) = match (which("chromium"), which("chromedriver")) {
            (Some(c), Some(d)) => (c, d),
            _ => {
                if std::env::var("VOUCH_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
                    panic!("VOUCH_REQUIRE_BROWSER=1 but chromium/chromedriver are not installed (apt-get install chromium chromium-driver)");
                }
                eprintln!("\n*** SKIPPED browser test {name}: chromium/chromedriver not installed (apt-get install chromium chromium-driver) ***\n");
                return None;
            }
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = tokio::process::Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.path().display()),
                    "--window-size=1280,900",
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() > deadline => panic!("WebDriver session: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        Some(Browser {
            client,
            driver,
            _profile: profile,
            name: name.to_string(),
        })
    }

    async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    async fn css(&self, selector: &str) -> fantoccini::elements::Element {
        self.client
            .find(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("{selector}: {e}"))
    }

    async fn click(&self, selector: &str) {
        self.css(selector).await.click().await.unwrap();
    }

    async fn text(&self) -> String {
        self.css("main").await.text().await.unwrap()
    }

    async fn h1(&self) -> String {
        self.css("h1").await.text().await.unwrap()
    }

    /// Screenshots of the current page, desktop then phone width; checks nothing overflows
    /// the phone width.
    async fn shoot(&self, state: &str) {
        let dir = artifacts();
        for (label, width, height) in [("desktop", 1280u32, 900u32), ("phone", 375, 812)] {
            self.client.set_window_size(width, height).await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
            let png = self.client.screenshot().await.unwrap();
            let path = dir.join(format!("{}-{state}-{label}.png", self.name));
            std::fs::write(&path, png).unwrap();
            println!("screenshot: {}", path.display());
            if label == "phone" {
                let overflow = self
                    .client
                    .execute(
                        "return document.documentElement.scrollWidth > window.innerWidth + 1;",
                        vec![],
                    )
                    .await
                    .unwrap();
                assert_eq!(
                    overflow,
                    json!(false),
                    "{state}: horizontal overflow at {width}px"
                );
            }
        }
        self.client.set_window_size(1280, 900).await.unwrap();
    }

    /// Tabs until the focused element matches `selector`, as a keyboard user would.
    async fn tab_to(&self, selector: &str) {
        for _ in 0..40 {
            let focused = self
                .client
                .execute(
                    "return document.activeElement && document.activeElement.matches(arguments[0]);",
                    vec![json!(selector)],
                )
                .await
                .unwrap();
            if focused == json!(true) {
                return;
            }
            self.press(TAB).await;
        }
        panic!("could not reach {selector} with Tab");
    }

    /// A key press on whatever has the focus (WebDriver key actions, as a keyboard does).
    async fn press(&self, key: char) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let actions = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.client.perform_actions(actions).await.unwrap();
    }

    async fn wait_for_h1(&self, wanted: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(el) = self.client.find(Locator::Css("h1")).await {
                if el.text().await.is_ok_and(|t| t.contains(wanted)) {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no h1 {wanted:?}; page: {}",
                self.text().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn finish(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.start_kill();
    }
}

fn image(dir: &Path, name: &str, w: u32, h: u32) -> String {
    let path = dir.join(name);
    std::fs::write(&path, png::png(w, h, Some(name))).unwrap();
    path.display().to_string()
}

async fn session(app: &TestApp, body: &str) -> (String, String) {
    let s = app.create_ok(body).await;
    (
        s["id"].as_str().unwrap().to_string(),
        s["url"].as_str().unwrap().to_string(),
    )
}

/// Consent, document type, photos (front, back, selfie), details: up to the test chooser.
async fn through_uploads(b: &Browser, url: &str, files: &Path, shoot: bool) {
    b.goto(url).await;
    assert_eq!(b.h1().await, "Verify your identity");
    if shoot {
        b.shoot("1-consent").await;
    }
    b.click("#consent").await;
    b.click("form.actions button.primary").await;
    b.wait_for_h1("Choose your document").await;
    if shoot {
        b.shoot("2-document").await;
    }
    b.click("#type-id_card").await;
    b.click("button.primary").await;
    b.wait_for_h1("Add photos").await;
    if shoot {
        b.shoot("3-photos").await;
    }
    b.css("#front")
        .await
        .send_keys(&image(files, "front.png", 64, 40))
        .await
        .unwrap();
    b.css("#back")
        .await
        .send_keys(&image(files, "back.png", 64, 40))
        .await
        .unwrap();
    b.css("#selfie")
        .await
        .send_keys(&image(files, "selfie.png", 32, 32))
        .await
        .unwrap();
    b.click("button[name=continue]").await;
    b.wait_for_h1("Review and submit").await;
}

async fn retrieve(app: &TestApp, id: &str, query: &str) -> Value {
    app.retrieve_session(id, query).await.ok()
}

#[tokio::test]
async fn success_path_verifies_and_the_report_references_the_uploaded_files() {
    let Some(b) = Browser::start("success").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let files = tempfile::tempdir().unwrap();
    let (id, url) = session(&app, "type=document&options[document][require_matching_selfie]=true&return_url=https%3A%2F%2Fshop.example%2Fdone").await;
    through_uploads(&b, &url, files.path(), true).await;
    b.shoot("4-details-test-chooser").await;
    assert!(b.text().await.contains("Verification success (async)"));
    b.click("#outcome-verified").await;
    b.click("form button.primary").await;
    b.wait_for_h1("You are verified").await;
    b.shoot("5-verified").await;
    let back = b.css("a.button").await;
    assert_eq!(
        back.attr("href").await.unwrap().as_deref(),
        Some("https://shop.example/done")
    );

    let s = retrieve(&app, &id, "expand[0]=last_verification_report").await;
    assert_eq!(s["status"], "verified");
    let report = &s["last_verification_report"];
    let doc_files = report["document"]["files"].as_array().unwrap();
    assert_eq!(doc_files.len(), 2, "{report}");
    assert_eq!(report["document"]["type"], "id_card");
    assert_eq!(report["selfie"]["document"], doc_files[0]);
    assert!(report["selfie"]["selfie"]
        .as_str()
        .unwrap()
        .starts_with("file_"));

    // The used link.
    b.goto(&url).await;
    assert_eq!(b.h1().await, "This link was already used or has expired");
    b.shoot("6-used-link").await;
    b.finish().await;
}

#[tokio::test]
async fn failure_path_leaves_requires_input_and_a_fresh_link() {
    let Some(b) = Browser::start("failure").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let files = tempfile::tempdir().unwrap();
    let (id, url) = session(
        &app,
        "type=document&options[document][require_matching_selfie]=true",
    )
    .await;
    through_uploads(&b, &url, files.path(), false).await;
    b.click("#outcome-failed").await;
    b.css("#error_code")
        .await
        .select_by_value("selfie_face_mismatch")
        .await
        .unwrap();
    b.shoot("1-failure-chosen").await;
    b.click("form button.primary").await;
    b.wait_for_h1("We could not verify your identity").await;
    assert!(b
        .text()
        .await
        .contains("The selfie does not match the face on the document."));
    b.shoot("2-not-verified").await;

    let s = retrieve(&app, &id, "").await;
    assert_eq!(s["status"], "requires_input");
    assert_eq!(s["last_error"]["code"], "selfie_face_mismatch");
    let fresh = s["url"].as_str().unwrap();
    assert_ne!(fresh, url);
    b.goto(&url).await;
    assert_eq!(b.h1().await, "This link was already used or has expired");
    b.goto(fresh).await;
    assert_eq!(b.h1().await, "Verify your identity");
    b.finish().await;
}

#[tokio::test]
async fn async_path_shows_processing_then_the_outcome() {
    let Some(b) = Browser::start("async").await else {
        return;
    };
    let app = TestApp::builder()
        .arg("--test-processing-delay")
        .arg("3s")
        .spawn()
        .await;
    let (id, url) = session(&app, "type=id_number").await;
    b.goto(&url).await;
    b.click("#consent").await;
    b.click("form.actions button.primary").await;
    b.wait_for_h1("Your details").await;
    b.css("#id_number")
        .await
        .send_keys("000-00-0000")
        .await
        .unwrap();
    b.click("#outcome-failed_async").await;
    b.css("#error_code")
        .await
        .select_by_value("id_number_mismatch")
        .await
        .unwrap();
    b.click("form button.primary").await;
    b.wait_for_h1("Checking your verification").await;
    b.shoot("1-processing").await;
    let live = b.css("#status-text").await;
    assert_eq!(
        live.attr("aria-live").await.unwrap().as_deref(),
        Some("polite")
    );
    assert_eq!(retrieve(&app, &id, "").await["status"], "processing");
    // The page follows the session by itself (JavaScript polling).
    b.wait_for_h1("We could not verify your identity").await;
    b.shoot("2-outcome").await;
    let s = retrieve(&app, &id, "").await;
    assert_eq!(s["last_error"]["code"], "id_number_mismatch");
    b.finish().await;
}

#[tokio::test]
async fn keyboard_only_completion() {
    let Some(b) = Browser::start("keyboard").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let (id, url) = session(&app, "type=document").await;
    b.goto(&url).await;
    b.tab_to("#consent").await;
    b.press(SPACE).await;
    b.tab_to("form.actions button.primary").await;
    b.press(ENTER).await;
    b.wait_for_h1("Choose your document").await;
    b.tab_to("button.primary").await;
    b.press(ENTER).await;
    b.wait_for_h1("Add photos").await;
    b.tab_to("button[name=skip]").await;
    b.shoot("1-keyboard-focus-skip").await;
    b.press(ENTER).await;
    b.wait_for_h1("Review and submit").await;
    b.tab_to("form button.primary").await;
    b.press(ENTER).await;
    b.wait_for_h1("You are verified").await;
    assert_eq!(retrieve(&app, &id, "").await["status"], "verified");
    b.finish().await;
}

#[tokio::test]
async fn unknown_links_and_non_images_get_clear_pages() {
    let Some(b) = Browser::start("errors").await else {
        return;
    };
    let app = TestApp::spawn().await;
    b.goto(&format!("{}/verify/test_{}", app.base_url, "x".repeat(40)))
        .await;
    assert_eq!(b.h1().await, "This verification link is not valid");
    b.shoot("1-unknown-link").await;

    let (_, url) = session(&app, "type=document").await;
    b.goto(&format!("{url}/upload?consent=yes&document_type=passport"))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("scan.pdf");
    std::fs::write(&pdf, b"%PDF-1.7\nnot an image").unwrap();
    b.css("#front")
        .await
        .send_keys(&pdf.display().to_string())
        .await
        .unwrap();
    b.click("button[name=continue]").await;
    b.wait_for_h1("Add photos").await;
    let alert = b.css("[role=alert]").await.text().await.unwrap();
    assert!(alert.contains("not a PNG, JPEG or WebP image"), "{alert}");
    assert_eq!(
        b.css("#front")
            .await
            .attr("aria-invalid")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    b.shoot("2-not-an-image").await;
    b.finish().await;
}

/// A Singapore passport's zone (Tan Wei Ling, born 2 March 1985, expires 1 January 2040) with
/// the NRIC `S1234567D` in its personal-number field.
fn singapore_passport_zone() -> String {
    mrz::Passport {
        state: "SGP",
        names: "TAN<<WEI<LING",
        number: "K1234567A",
        nationality: "SGP",
        dob: "850302",
        sex: 'F',
        expiry: "400101",
        personal: "S1234567D",
    }
    .zone()
}

impl Browser {
    /// Sets a date input to `YYYY-MM-DD` (what a date picker writes), as `input` events.
    async fn set_date(&self, selector: &str, value: &str) {
        self.client
            .execute(
                "const el = document.querySelector(arguments[0]); el.value = arguments[1]; \
                 el.dispatchEvent(new Event('input', {bubbles: true})); \
                 el.dispatchEvent(new Event('change', {bubbles: true}));",
                vec![json!(selector), json!(value)],
            )
            .await
            .unwrap();
    }

    async fn type_into(&self, selector: &str, text: &str) {
        self.css(selector).await.send_keys(text).await.unwrap();
    }
}

/// Live mode (issue 3): no test chooser; the document step, the photo the passport needs, the
/// machine-readable zone, dates and the ID number a `require_id_number` session asks for, the
/// outcome the built-in verifier decides; then the API state and the report.
#[tokio::test]
async fn live_mode_form_verifies_a_passport_with_its_id_number() {
    let Some(b) = Browser::start("live").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let s = app
        .create_session_as(
            &app.live_key,
            "type=document&options[document][require_id_number]=true\
             &return_url=https%3A%2F%2Fshop.example%2Fdone",
        )
        .await
        .ok();
    let id = s["id"].as_str().unwrap().to_string();
    let url = s["url"].as_str().unwrap().to_string();
    let files = tempfile::tempdir().unwrap();

    b.goto(&url).await;
    assert_eq!(b.h1().await, "Verify your identity");
    assert!(!b.text().await.contains("Test mode"), "live: no test badge");
    b.shoot("1-consent").await;
    b.click("#consent").await;
    b.click("form.actions button.primary").await;
    b.wait_for_h1("Choose your document").await;
    b.click("#type-passport").await;
    b.shoot("2-document").await;
    b.click("button.primary").await;
    b.wait_for_h1("Add photos").await;
    let photos = b.text().await;
    assert!(!photos.contains("Skip photos"), "live: photos are required");
    b.shoot("3-photos").await;
    b.css("#front")
        .await
        .send_keys(&image(files.path(), "passport.png", 64, 44))
        .await
        .unwrap();
    b.click("button[name=continue]").await;
    b.wait_for_h1("Your details").await;
    let details = b.text().await;
    for absent in ["Verification success", "choose the outcome"] {
        assert!(!details.contains(absent), "live: no chooser ({absent})");
    }
    for field in [
        "#mrz",
        "#expiration",
        "#dob",
        "#first_name",
        "#last_name",
        "#id_number_type",
        "#id_number",
    ] {
        b.css(field).await;
    }
    b.type_into("#mrz", &singapore_passport_zone()).await;
    b.set_date("#expiration", "2040-01-01").await;
    b.set_date("#dob", "1985-03-02").await;
    b.type_into("#first_name", "Wei Ling").await;
    b.type_into("#last_name", "Tan").await;
    b.css("#id_number_type")
        .await
        .select_by_value("sg_nric")
        .await
        .unwrap();
    b.type_into("#id_number", "S1234567D").await;
    b.shoot("4-details-live").await;
    b.click("form button.primary").await;
    b.wait_for_h1("You are verified").await;
    b.shoot("5-verified").await;
    assert_eq!(
        b.css("a.button")
            .await
            .attr("href")
            .await
            .unwrap()
            .as_deref(),
        Some("https://shop.example/done")
    );

    let s = app
        .get(
            &format!(
                "{}/{id}?expand[0]=last_verification_report&expand[1]=verified_outputs\
                 &expand[2]=verified_outputs.dob&expand[3]=verified_outputs.id_number",
                helpers::SESSIONS
            ),
            &app.live_key,
        )
        .await
        .ok();
    assert_eq!(s["status"], "verified", "{s}");
    assert_eq!(s["livemode"], true);
    let out = &s["verified_outputs"];
    assert_eq!(out["first_name"], "WEI LING", "{out}");
    assert_eq!(out["last_name"], "TAN");
    assert_eq!(out["dob"], json!({"day": 2, "month": 3, "year": 1985}));
    assert_eq!(out["id_number_type"], "sg_nric");
    assert_eq!(out["id_number"], "S1234567D");
    let report = &s["last_verification_report"];
    let doc = &report["document"];
    assert_eq!(doc["status"], "verified", "{report}");
    assert_eq!(doc["type"], "passport");
    assert_eq!(doc["issuing_country"], "SG");
    assert_eq!(doc["last_name"], "TAN");
    let doc_files = doc["files"].as_array().unwrap();
    assert_eq!(doc_files.len(), 1, "the passport's photo page: {doc}");
    assert!(doc_files[0].as_str().unwrap().starts_with("file_"));
    assert_eq!(report["id_number"]["status"], "verified", "{report}");
    assert_eq!(report["id_number"]["id_number_type"], "sg_nric");
    assert_eq!(report["livemode"], true);

    // The used link.
    b.goto(&url).await;
    assert_eq!(b.h1().await, "This link was already used or has expired");
    b.shoot("6-used-link").await;
    b.finish().await;
}
