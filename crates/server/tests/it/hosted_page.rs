//! The hosted verification page over HTTP (no browser): every step as a plain form, the link's
//! single use, upload limits, escaping, the security headers. The browser tests
//! (`tests/browser`) drive the same page in Chromium.

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::helpers::TestApp;
use crate::mrz::Passport;
use crate::png::png;

/// A browser-like client of the page: no redirects followed, no API key.
pub struct PageClient {
    client: reqwest::Client,
    base: String,
}

pub struct PageResp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl PageResp {
    pub fn location(&self) -> String {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no Location ({}): {}", self.status, self.text))
            .to_string()
    }
}

impl PageClient {
    pub fn new(app: &TestApp) -> PageClient {
        PageClient {
            client: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: app.base_url.clone(),
        }
    }

    /// `path` may be a full URL of this server or a path.
    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    async fn read(r: reqwest::Response) -> PageResp {
        PageResp {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            text: r.text().await.unwrap(),
        }
    }

    pub async fn get(&self, path: &str) -> PageResp {
        Self::read(self.client.get(self.url(path)).send().await.unwrap()).await
    }

    pub async fn post_form(&self, path: &str, body: &str) -> PageResp {
        let r = self
            .client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        Self::read(r).await
    }

    /// POST multipart/form-data: (name, Some(filename), bytes) for files, None for fields.
    pub async fn post_multipart(
        &self,
        path: &str,
        parts: &[(&str, Option<&str>, &[u8])],
    ) -> PageResp {
        let boundary = "----vouchTestBoundary0123";
        let mut body = Vec::new();
        for (name, file, data) in parts {
            body.extend(format!("--{boundary}\r\n").as_bytes());
            match file {
                Some(f) => body.extend(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                         Content-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => body.extend(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend(*data);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").as_bytes());
        let r = self
            .client
            .post(self.url(path))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        Self::read(r).await
    }
}

/// The link path (`/verify/<token>`) of a session's url.
pub(crate) fn link(session: &Value) -> String {
    let url = session["url"].as_str().expect("url");
    let at = url.find("/verify/").expect("/verify/ in url");
    url[at..].to_string()
}

/// Every `http://`/`https://` in a page must be the return URL.
fn assert_no_external_urls(text: &str, allowed: Option<&str>) {
    let mut rest = text;
    while let Some(i) = rest.find("http") {
        let tail = &rest[i..];
        if tail.starts_with("http://") || tail.starts_with("https://") {
            let ok = allowed.is_some_and(|a| tail.starts_with(a));
            assert!(
                ok,
                "external URL in the page: {}",
                &tail[..tail.len().min(80)]
            );
        }
        rest = &rest[i + 4..];
    }
}

/// Uploads the given images and returns the details page path (with the file ids).
pub(crate) async fn upload(
    page: &PageClient,
    link: &str,
    doc_type: &str,
    files: &[(&str, &[u8])],
) -> String {
    let mut parts: Vec<(&str, Option<&str>, &[u8])> = vec![
        ("consent", None, b"yes"),
        ("document_type", None, doc_type.as_bytes()),
    ];
    for (name, data) in files {
        parts.push((name, Some("photo.png"), data));
    }
    let r = page.post_multipart(&format!("{link}/upload"), &parts).await;
    assert_eq!(r.status, 303, "{}", r.text);
    r.location()
}

/// The hidden fields of the details form as a form body.
pub(crate) fn carried_query(details_path: &str) -> String {
    details_path
        .split_once('?')
        .map(|(_, q)| q.to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_test_mode_success_path_verifies_and_the_report_references_the_uploads() {
    let app = TestApp::spawn().await;
    let page = PageClient::new(&app);
    let s = app
        .create_ok("type=document&options[document][require_matching_selfie]=true&options[document][allowed_types][0]=passport&options[document][allowed_types][1]=id_card&return_url=https%3A%2F%2Fshop.example%2Fdone")
        .await;
    let id = s["id"].as_str().unwrap();
    let link = link(&s);

    let consent = page.get(&link).await;
    assert_eq!(consent.status, 200);
    assert!(consent.text.contains("Test mode"));
    assert_no_external_urls(&consent.text, None);
    // Without consent the next step sends the user back.
    assert_eq!(page.get(&format!("{link}/document")).await.status, 303);
    let doc = page.get(&format!("{link}/document?consent=yes")).await;
    assert_eq!(doc.status, 200);
    assert!(doc.text.contains("value=\"passport\" checked"));
    assert!(doc.text.contains("value=\"id_card\""));
    assert!(!doc.text.contains("driving_license"), "only allowed types");
    let form = page
        .get(&format!("{link}/upload?consent=yes&document_type=id_card"))
        .await;
    assert!(form.text.contains("name=\"front\"") && form.text.contains("name=\"back\""));
    assert!(form.text.contains("name=\"selfie\""));

    let front = png(40, 30, Some("front"));
    let back = png(40, 30, Some("back"));
    let selfie = png(20, 20, Some("selfie"));
    let details = upload(
        &page,
        &link,
        "id_card",
        &[("front", &front), ("back", &back), ("selfie", &selfie)],
    )
    .await;
    let d = page.get(&details).await;
    assert_eq!(d.status, 200, "{}", d.text);
    for label in [
        "Verification success",
        "Verification failure",
        "Verification success (async)",
        "Verification failure (async)",
    ] {
        assert!(d.text.contains(label), "chooser offers {label}");
    }
    assert!(
        d.text.contains("selfie_face_mismatch"),
        "selfie codes fit this session"
    );
    assert!(!d.text.contains("id_number_mismatch"), "no id number check");

    let body = format!("{}&outcome=verified", carried_query(&details));
    let r = page.post_form(&format!("{link}/submit"), &body).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.location(), format!("{link}/status"));
    let done = page.get(&format!("{link}/status")).await;
    assert_eq!(done.status, 200);
    assert!(done.text.contains("You are verified"));
    assert!(done.text.contains("href=\"https://shop.example/done\""));
    assert_no_external_urls(&done.text, Some("https://shop.example/done"));

    let session = app
        .retrieve_session(id, "expand[0]=last_verification_report")
        .await
        .ok();
    assert_eq!(session["status"], "verified");
    let report = &session["last_verification_report"];
    let files = report["document"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert!(files
        .iter()
        .all(|f| f.as_str().unwrap().starts_with("file_")));
    assert_eq!(report["document"]["type"], "id_card");
    assert_eq!(report["selfie"]["document"], files[0]);
    assert!(report["selfie"]["selfie"]
        .as_str()
        .unwrap()
        .starts_with("file_"));
    assert_eq!(report["selfie"]["status"], "verified");

    // The link was used: every step now answers the "already used" page.
    let again = page.post_form(&format!("{link}/submit"), &body).await;
    assert_eq!(again.status, 410);
    assert!(again.text.contains("already used or has expired"));
    assert_eq!(page.get(&link).await.status, 410);
    let json: Value =
        serde_json::from_str(&page.get(&format!("{link}/status.json")).await.text).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"status": "verified", "settled": true})
    );
}

#[tokio::test]
async fn a_failure_consumes_the_link_and_retrieve_mints_a_new_one() {
    let app = TestApp::spawn().await;
    let page = PageClient::new(&app);
    let s = app.create_ok("type=document").await;
    let id = s["id"].as_str().unwrap();
    let link = link(&s);
    let r = page
        .post_form(
            &format!("{link}/submit"),
            "consent=yes&document_type=passport&outcome=failed&error_code=document_expired",
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let status = page.get(&format!("{link}/status")).await;
    assert!(
        status.text.contains("The document is expired."),
        "{}",
        status.text
    );
    let s2 = app.retrieve_session(id, "").await.ok();
    assert_eq!(s2["status"], "requires_input");
    assert_eq!(s2["last_error"]["code"], "document_expired");
    let fresh = link_of(&s2);
    assert_ne!(fresh, link);
    assert_eq!(page.get(&link).await.status, 410);
    assert_eq!(page.get(&fresh).await.status, 200);
    // A code that does not fit the session's checks is refused, and the link stays usable.
    let bad = page
        .post_form(
            &format!("{fresh}/submit"),
            "consent=yes&outcome=failed&error_code=selfie_face_mismatch",
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.text.contains("cannot result from this session"));
    assert_eq!(page.get(&fresh).await.status, 200);
}

fn link_of(s: &Value) -> String {
    link(s)
}

#[tokio::test]
async fn declining_consent_ends_the_attempt_with_consent_declined() {
    let app = TestApp::spawn().await;
    let page = PageClient::new(&app);
    let s = app.create_ok("type=id_number").await;
    let link = link(&s);
    let consent = page.get(&link).await;
    assert!(consent.text.contains(&format!("action=\"{link}/details\"")));
    let r = page.post_form(&format!("{link}/decline"), "").await;
    assert_eq!(r.status, 303);
    let s2 = app
        .retrieve_session(s["id"].as_str().unwrap(), "")
        .await
        .ok();
    assert_eq!(s2["last_error"]["code"], "consent_declined");
    assert!(page
        .get(&format!("{link}/status"))
        .await
        .text
        .contains("declined"));
}

#[tokio::test]
async fn the_async_outcome_stays_processing_then_settles() {
    let app = TestApp::builder()
        .arg("--test-processing-delay")
        .arg("700ms")
        .spawn()
        .await;
    let page = PageClient::new(&app);
    let s = app.create_ok("type=id_number").await;
    let link = link(&s);
    let r = page
        .post_form(
            &format!("{link}/submit"),
            "consent=yes&id_number=123-45-6789&outcome=verified_async",
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let processing = page.get(&format!("{link}/status")).await;
    assert!(
        processing.text.contains("data-poll="),
        "{}",
        processing.text
    );
    assert!(processing.text.contains("aria-live=\"polite\""));
    assert!(
        processing.text.contains("http-equiv=\"refresh\""),
        "works without JS"
    );
    let mut settled = false;
    for _ in 0..50 {
        let j: Value =
            serde_json::from_str(&page.get(&format!("{link}/status.json")).await.text).unwrap();
        if j["settled"] == true {
            assert_eq!(j["status"], "verified");
            settled = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(settled);
    assert!(page
        .get(&format!("{link}/status"))
        .await
        .text
        .contains("You are verified"));
}

#[tokio::test]
async fn unknown_and_malformed_links_get_a_not_found_page() {
    let app = TestApp::spawn().await;
    let page = PageClient::new(&app);
    for path in [
        format!("/verify/test_{}", "A".repeat(40)),
        "/verify/nonsense".to_string(),
        "/verify/%FF%FE".to_string(),
        format!("/verify/test_{}/status", "b".repeat(40)),
    ] {
        let r = page.get(&path).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(
            r.text.contains("This verification link is not valid"),
            "{path}"
        );
        assert!(r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
    }
    let j = page
        .get(&format!("/verify/test_{}/status.json", "A".repeat(40)))
        .await;
    assert_eq!(j.status, 404);
}

#[tokio::test]
async fn pages_carry_the_csp_and_escape_what_integrations_and_users_send() {
    let app = TestApp::spawn().await;
    let page = PageClient::new(&app);
    let evil = "https://x.example/?q=\"><script>alert(1)</script>";
    let s = app
        .create_ok(&format!(
            "type=id_number&metadata[name]=%3Cscript%3E&return_url={}",
            urlencode(evil)
        ))
        .await;
    let link = link(&s);
    let consent = page.get(&link).await;
    let csp = consent.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(consent.headers["referrer-policy"], "no-referrer");
    assert_eq!(consent.headers["cache-control"], "no-store");
    for asset in ["/verify-static/page.css", "/verify-static/page.js"] {
        let a = page.get(asset).await;
        assert_eq!(a.status, 200);
        assert_no_external_urls(&a.text, None);
    }
    // A user's value echoed back in a form with an error is escaped.
    let bad = page
        .post_form(
            &format!("{link}/submit"),
            "consent=yes&outcome=verified&id_number=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(!bad.text.contains("<script>alert"), "{}", bad.text);
    assert!(bad.text.contains("&quot;&gt;&lt;script&gt;"));
    assert!(bad.text.contains("role=\"alert\""));
    // The return URL shown on the outcome page is escaped.
    page.post_form(&format!("{link}/decline"), "").await;
    let out = page.get(&format!("{link}/status")).await;
    assert!(!out.text.contains("<script>alert"), "{}", out.text);
    assert!(out
        .text
        .contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    // A javascript: return URL never becomes a link.
    let s2 = app
        .create_ok("type=id_number&return_url=javascript%3Aalert(1)")
        .await;
    let l2 = link_of(&s2);
    page.post_form(&format!("{l2}/decline"), "").await;
    assert!(!page
        .get(&format!("{l2}/status"))
        .await
        .text
        .contains("javascript:"));
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn uploads_must_be_images_within_the_size_limit() {
    let app = TestApp::builder()
        .arg("--max-image-bytes")
        .arg("3000")
        .spawn()
        .await;
    let page = PageClient::new(&app);
    let s = app.create_ok("type=document").await;
    let link = link(&s);
    let up = format!("{link}/upload");
    let not_image = page
        .post_multipart(
            &up,
            &[
                ("consent", None, b"yes"),
                ("document_type", None, b"passport"),
                ("front", Some("doc.pdf"), b"%PDF-1.7 not an image"),
            ],
        )
        .await;
    assert_eq!(not_image.status, 415, "{}", not_image.text);
    assert!(not_image.text.contains("not a PNG, JPEG or WebP image"));
    assert!(not_image.text.contains("aria-invalid=\"true\""));
    let big = png(60, 60, None);
    assert!(big.len() > 3000);
    let too_big = page
        .post_multipart(
            &up,
            &[
                ("document_type", None, b"passport"),
                ("front", Some("big.png"), &big),
            ],
        )
        .await;
    assert_eq!(too_big.status, 413);
    assert!(too_big.text.contains("larger than"), "{}", too_big.text);
    let huge = vec![b'x'; 20_000];
    let body_too_big = page
        .post_multipart(&up, &[("front", Some("x.png"), &huge)])
        .await;
    assert_eq!(body_too_big.status, 413);
    let wrong_type = page.post_form(&up, "front=x").await;
    assert_eq!(wrong_type.status, 415);
    let garbage = page
        .client
        .post(page.url(&up))
        .header("content-type", "multipart/form-data; boundary=zzz")
        .body("--zzz\r\nnonsense")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status().as_u16(), 400);
    // Skipping photos is for test mode only; a good image is accepted and stored.
    let ok = upload(&page, &link, "passport", &[("front", &png(10, 10, None))]).await;
    assert!(ok.contains("front=file_"), "{ok}");
    // A file id of another session is refused at submit.
    let other = app.create_ok("type=document").await;
    let olink = link_of(&other);
    let r = page
        .post_form(
            &format!("{olink}/submit"),
            &format!("{}&outcome=verified", carried_query(&ok)),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text.contains("could not be found"));
}

#[tokio::test]
async fn live_mode_has_no_chooser_and_requires_every_input() {
    let app = TestApp::spawn().await;
    let page = PageClient::new(&app);
    let s = app
        .create_session_as(
            &app.live_key,
            "type=document&options[document][require_id_number]=true",
        )
        .await
        .ok();
    let link = link(&s);
    let consent = page.get(&link).await;
    assert!(!consent.text.contains("Test mode"));
    let form = page
        .get(&format!("{link}/upload?consent=yes&document_type=passport"))
        .await;
    assert!(form.text.contains("required"));
    assert!(!form.text.contains("Skip photos"));
    let missing = page
        .post_multipart(
            &format!("{link}/upload"),
            &[("document_type", None, b"passport"), ("skip", None, b"yes")],
        )
        .await;
    assert_eq!(missing.status, 400, "{}", missing.text);
    let details = upload(&page, &link, "passport", &[("front", &png(12, 12, None))]).await;
    let d = page.get(&details).await;
    assert!(!d.text.contains("Verification success"));
    assert!(d.text.contains("name=\"id_number\""));
    let no_number = page
        .post_form(&format!("{link}/submit"), &carried_query(&details))
        .await;
    assert_eq!(no_number.status, 400);
    assert!(d.text.contains("name=\"mrz\""));
    assert!(d.text.contains("name=\"id_number_type\""));
    let no_type = page
        .post_form(
            &format!("{link}/submit"),
            &format!(
                "{}&id_number=123456789&expiration=2040-01-01&dob=1990-01-01",
                carried_query(&details)
            ),
        )
        .await;
    assert_eq!(no_type.status, 400);
    assert!(no_type.text.contains("Choose the type of your ID number"));
    let r = page
        .post_form(
            &format!("{link}/submit"),
            &format!(
                "{}&id_number=123456789&id_number_type=us_ssn&expiration=2040-01-01&dob=1990-01-01",
                carried_query(&details)
            ),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let after = app
        .get(
            &format!(
                "/v1/identity/verification_sessions/{}",
                s["id"].as_str().unwrap()
            ),
            &app.live_key,
        )
        .await
        .ok();
    assert_eq!(after["status"], "requires_input");
    assert!(after["last_error"]["code"]
        .as_str()
        .unwrap()
        .ends_with("_unverified_other"));
}

// -------------------------------------------------------------------------------------------
// Live mode: the built-in verifier decides

/// The ICAO 9303 specimen passport of Utopia (Anna Maria Eriksson, document L898902C3,
/// personal number ZE184226B) with the given date of birth and expiry (`YYMMDD`) and every
/// check digit computed.
fn specimen_passport(dob: &str, expiry: &str) -> String {
    passport_issued_by("UTO", dob, expiry)
}

/// The specimen passport as issued by `state` (three characters, `<`-padded: `D<<`).
fn passport_issued_by(state: &str, dob: &str, expiry: &str) -> String {
    Passport {
        state,
        names: "ERIKSSON<<ANNA<MARIA",
        number: "L898902C3",
        nationality: "UTO",
        dob,
        sex: 'F',
        expiry,
        personal: "ZE184226B",
    }
    .zone()
}

/// A live document session for a passport, the photo page uploaded and the details form
/// submitted with `details` (url-encoded); returns the session with its verified outputs and
/// report expanded.
async fn live_passport(app: &TestApp, options: &str, details: &str) -> Value {
    let page = PageClient::new(app);
    let s = app
        .create_session_as(&app.live_key, &format!("type=document{options}"))
        .await
        .ok();
    let link = link(&s);
    let mut files: Vec<(&str, Vec<u8>)> = vec![("front", png(40, 30, Some("front")))];
    if options.contains("require_matching_selfie") {
        files.push(("selfie", png(20, 20, Some("selfie"))));
    }
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (*n, d.as_slice())).collect();
    let details_path = upload(&page, &link, "passport", &files).await;
    let form = page.get(&details_path).await;
    assert!(form.text.contains("name=\"mrz\""), "{}", form.text);
    assert!(!form.text.contains("Verification success"));
    let r = page
        .post_form(
            &format!("{link}/submit"),
            &format!("{}&{details}", carried_query(&details_path)),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let id = s["id"].as_str().unwrap();
    app.get(
        &format!(
            "/v1/identity/verification_sessions/{id}\
             ?expand[0]=verified_outputs.dob&expand[1]=verified_outputs.sex\
             &expand[2]=verified_outputs.id_number&expand[3]=last_verification_report"
        ),
        &app.live_key,
    )
    .await
    .ok()
}

fn passport_form(mrz: &str, expiration: &str, dob: &str) -> String {
    format!("mrz={}&expiration={expiration}&dob={dob}", urlencode(mrz))
}

#[tokio::test]
async fn live_a_valid_specimen_passport_zone_verifies_with_the_zone_as_the_person() {
    let app = TestApp::spawn().await;
    let mrz = specimen_passport("740812", "400415");
    let s = live_passport(&app, "", &passport_form(&mrz, "2040-04-15", "1974-08-12")).await;
    assert_eq!(s["status"], "verified", "{s}");
    assert_eq!(s["last_error"], Value::Null);
    let out = &s["verified_outputs"];
    assert_eq!(out["first_name"], "ANNA MARIA");
    assert_eq!(out["last_name"], "ERIKSSON");
    assert_eq!(
        out["dob"],
        serde_json::json!({"day": 12, "month": 8, "year": 1974})
    );
    assert_eq!(out["sex"], "female");
    // Nothing the built-in verifier did not read is made up.
    assert_eq!(out["address"], Value::Null);
    assert_eq!(out["id_number"], Value::Null);
    let doc = &s["last_verification_report"]["document"];
    assert_eq!(doc["status"], "verified");
    assert_eq!(doc["error"], Value::Null);
    assert_eq!(doc["first_name"], "ANNA MARIA");
    assert_eq!(doc["last_name"], "ERIKSSON");
    assert_eq!(doc["type"], "passport");
    assert_eq!(doc["address"], Value::Null);
    // Utopia, the specimens' issuing state, is no country.
    assert_eq!(doc["issuing_country"], Value::Null);
    assert_eq!(doc["files"].as_array().unwrap().len(), 1);
}

/// Stripe's `document.issuing_country` is a two-letter code ("US"); a zone writes three letters
/// (ISO 3166-1 alpha-3, `D` for Germany). A verified zone's issuing state is the report's
/// issuing country; verified_outputs have no such field.
#[tokio::test]
async fn live_the_zone_issuing_state_is_the_report_issuing_country() {
    let app = TestApp::spawn().await;
    for (state, country) in [("D<<", "DE"), ("NLD", "NL")] {
        let mrz = passport_issued_by(state, "740812", "400415");
        let s = live_passport(&app, "", &passport_form(&mrz, "2040-04-15", "1974-08-12")).await;
        assert_eq!(s["status"], "verified", "{state}: {s}");
        let doc = &s["last_verification_report"]["document"];
        assert_eq!(doc["issuing_country"], country, "{state}: {doc}");
        assert!(s["verified_outputs"].get("issuing_country").is_none());
        // The report on its own shows the same.
        let report = app
            .get(
                &format!(
                    "/v1/identity/verification_reports/{}",
                    s["last_verification_report"]["id"].as_str().unwrap()
                ),
                &app.live_key,
            )
            .await
            .ok();
        assert_eq!(report["document"]["issuing_country"], country);
    }
    // A zone whose check digits fail reports nothing of it, the country included.
    let mrz = passport_issued_by("D<<", "740812", "400415").replacen("L898902C3", "L898902C4", 1);
    let s = live_passport(&app, "", &passport_form(&mrz, "2040-04-15", "1974-08-12")).await;
    assert_eq!(s["status"], "requires_input", "{s}");
    assert_eq!(
        s["last_verification_report"]["document"]["issuing_country"],
        Value::Null
    );
}

#[tokio::test]
async fn live_a_corrupted_check_digit_is_document_unverified_other() {
    let app = TestApp::spawn().await;
    let mrz = specimen_passport("740812", "400415").replacen("L898902C3", "L898902C4", 1);
    let s = live_passport(&app, "", &passport_form(&mrz, "2040-04-15", "1974-08-12")).await;
    assert_eq!(s["status"], "requires_input", "{s}");
    assert_eq!(s["last_error"]["code"], "document_unverified_other");
    assert_eq!(s["verified_outputs"]["first_name"], Value::Null);
    let doc = &s["last_verification_report"]["document"];
    assert_eq!(doc["status"], "unverified");
    assert_eq!(doc["error"]["code"], "document_unverified_other");
    assert_eq!(doc["first_name"], Value::Null);
}

#[tokio::test]
async fn live_an_expired_document_is_document_expired() {
    let app = TestApp::spawn().await;
    // The specimen as printed in ICAO 9303: it expired on 15 April 2012.
    let mrz = specimen_passport("740812", "120415");
    assert!(mrz.ends_with("L898902C36UTO7408122F1204159ZE184226B<<<<<10"));
    let s = live_passport(&app, "", &passport_form(&mrz, "2012-04-15", "1974-08-12")).await;
    assert_eq!(s["status"], "requires_input", "{s}");
    assert_eq!(s["last_error"]["code"], "document_expired");
    let doc = &s["last_verification_report"]["document"];
    assert_eq!(doc["status"], "unverified");
    assert_eq!(doc["error"]["code"], "document_expired");
}

/// Born ten years ago today (as `YYMMDD` and `YYYY-MM-DD`), on the 1st of the month.
fn ten_years_old() -> (String, String) {
    let days = crate::helpers::now_unix() / 86_400;
    let year = 1970 + (days * 400 / 146_097) - 10;
    (format!("{:02}0101", year % 100), format!("{year}-01-01"))
}

#[tokio::test]
async fn live_under_the_minimum_age_is_under_supported_age_and_min_age_is_configurable() {
    let (zone_dob, dob) = ten_years_old();
    let mrz = specimen_passport(&zone_dob, "400415");
    let form = passport_form(&mrz, "2040-04-15", &dob);
    let app = TestApp::spawn().await;
    let s = live_passport(&app, "", &form).await;
    assert_eq!(s["status"], "requires_input", "{s}");
    assert_eq!(s["last_error"]["code"], "under_supported_age");
    // Stripe's document check has no age code: the report says document_unverified_other.
    let doc = &s["last_verification_report"]["document"];
    assert_eq!(doc["status"], "unverified");
    assert_eq!(doc["error"]["code"], "document_unverified_other");

    // With --min-age 0 the same child's passport verifies.
    let app = TestApp::builder().arg("--min-age").arg("0").spawn().await;
    let s = live_passport(&app, "", &form).await;
    assert_eq!(s["status"], "verified", "{s}");
}

#[tokio::test]
async fn live_a_verified_document_with_an_undecidable_selfie_reports_both_as_decided() {
    let app = TestApp::spawn().await;
    let mrz = specimen_passport("740812", "400415");
    let s = live_passport(
        &app,
        "&options[document][require_matching_selfie]=true",
        &passport_form(&mrz, "2040-04-15", "1974-08-12"),
    )
    .await;
    assert_eq!(s["status"], "requires_input", "{s}");
    assert_eq!(s["last_error"]["code"], "selfie_unverified_other");
    let report = &s["last_verification_report"];
    assert_eq!(report["document"]["status"], "verified");
    assert_eq!(report["document"]["last_name"], "ERIKSSON");
    assert_eq!(report["selfie"]["status"], "unverified");
    assert_eq!(report["selfie"]["error"]["code"], "selfie_unverified_other");
}

#[tokio::test]
async fn live_an_id_number_alone_is_never_verified() {
    let app = TestApp::spawn().await;
    let page = PageClient::new(&app);
    let s = app
        .create_session_as(&app.live_key, "type=id_number")
        .await
        .ok();
    let link = link(&s);
    let d = page.get(&format!("{link}/details?consent=yes")).await;
    assert!(d.text.contains("name=\"id_number_type\""), "{}", d.text);
    assert!(d.text.contains("value=\"br_cpf\""));
    assert!(!d.text.contains("name=\"mrz\""));
    // A structurally valid CPF, as people type it.
    let r = page
        .post_form(
            &format!("{link}/submit"),
            "consent=yes&first_name=Maria&last_name=Souza&dob=1990-05-17\
             &id_number_type=br_cpf&id_number=529.982.247-25",
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let id = s["id"].as_str().unwrap();
    let after = app
        .get(
            &format!("/v1/identity/verification_sessions/{id}?expand[0]=last_verification_report"),
            &app.live_key,
        )
        .await
        .ok();
    assert_eq!(after["status"], "requires_input");
    assert_eq!(after["last_error"]["code"], "id_number_unverified_other");
    let check = &after["last_verification_report"]["id_number"];
    assert_eq!(check["status"], "unverified");
    assert_eq!(check["error"]["code"], "id_number_unverified_other");
    assert_eq!(after["last_verification_report"]["document"], Value::Null);
}
