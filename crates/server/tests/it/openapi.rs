//! `GET /openapi.json` and the document's sync with the router: the served document is the
//! committed file, every route of `vouch_api::routes::ROUTES` is documented and every documented
//! operation is routed, and `scripts/gen-openapi.py --check` regenerates the identical file.

use std::collections::BTreeSet;
use std::path::Path;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{Auth, TestApp};

const COMMITTED: &str = include_str!("../../../api/openapi.json");

/// `/v1/identity/verification_sessions/{session}` → `/v1/identity/verification_sessions/{}`:
/// the document keeps Stripe's parameter names, the router calls them all `{id}`.
fn normalize(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            ops.insert((method.to_uppercase(), normalize(path)));
        }
    }
    ops
}

#[tokio::test]
async fn served_document_is_the_committed_file_without_auth() {
    let app = TestApp::spawn().await;
    let r = app
        .request(Method::GET, "/openapi.json", Auth::None, None, &[])
        .await;
    r.assert_status(200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    assert!(r.text == COMMITTED, "served document differs from the file");
    let doc: Value = serde_json::from_str(&r.text).expect("JSON");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["servers"][0]["url"], "http://127.0.0.1:12111");
}

/// The hosted page's routes, read from `vouch_web::router`'s source (`.route("path",
/// get(…).post(…))`), until crates/web keeps them in a table like `vouch_api::routes::ROUTES`.
fn web_routes() -> BTreeSet<(String, String)> {
    let src = include_str!("../../../web/src/lib.rs");
    let mut out = BTreeSet::new();
    for chunk in src.split(".route(").skip(1) {
        let Some(rest) = chunk.trim_start().strip_prefix('"') else {
            continue;
        };
        let Some((path, rest)) = rest.split_once('"') else {
            continue;
        };
        // The handler expression: up to the parenthesis closing `.route(`.
        let mut depth = 1;
        let end = rest
            .char_indices()
            .find(|(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map_or(rest.len(), |(i, _)| i);
        let expr = &rest[..end];
        for method in ["get", "post", "put", "patch", "delete"] {
            let found = expr.match_indices(&format!("{method}(")).any(|(i, _)| {
                !expr[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            });
            if found {
                out.insert((method.to_uppercase(), normalize(path)));
            }
        }
    }
    out
}

#[test]
fn every_route_is_documented_and_every_operation_routed() {
    let doc: Value = serde_json::from_str(COMMITTED).expect("committed document is JSON");
    let documented = documented(&doc);
    let mut routed: BTreeSet<(String, String)> = vouch_api::routes::ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), normalize(r.path)))
        .collect();
    assert_eq!(
        routed.len(),
        vouch_api::routes::ROUTES.len(),
        "a route is listed twice"
    );
    let web = web_routes();
    assert!(
        web.contains(&("GET".to_owned(), "/verify/{}".to_owned())),
        "could not read the hosted page's routes: {web:?}"
    );
    routed.extend(web);
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routes missing from crates/api/openapi.json (add them to scripts/gen-openapi.py): \
         {undocumented:?}\noperations documented but not routed: {unrouted:?}"
    );
}

#[test]
fn extensions_are_marked_and_stripe_operations_are_not() {
    let doc: Value = serde_json::from_str(COMMITTED).expect("JSON");
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let ours = !path.starts_with("/v1/identity/verification_sessions")
            && !path.starts_with("/v1/identity/verification_reports")
            && !path.starts_with("/v1/events")
            && !path.starts_with("/v1/webhook_endpoints");
        for (method, op) in item.as_object().expect("path item") {
            assert_eq!(
                op.get("x-vouch-extension") == Some(&Value::Bool(true)),
                ours,
                "{method} {path}: x-vouch-extension"
            );
        }
    }
}

#[tokio::test]
async fn every_documented_operation_answers_json_not_the_unknown_route_error() {
    let app = TestApp::spawn().await;
    let doc: Value = serde_json::from_str(COMMITTED).expect("JSON");
    for (method, path) in documented(&doc) {
        let path = path.replace("{}", "vs_0000000000000000000000000");
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let r = app
            .request(
                method.clone(),
                &path,
                Auth::Bearer(&app.test_key),
                None,
                &[],
            )
            .await;
        let message = r.err()["message"].as_str().unwrap_or_default();
        assert!(
            !message.starts_with("Unrecognized request URL"),
            "{method} {path} is documented but not routed: {}",
            r.text
        );
        assert!(r.status < 500, "{method} {path}: {} {}", r.status, r.text);
    }
}

#[test]
fn generator_regenerates_the_committed_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let spec = root.join("../shared/reference/stripe-identity-openapi.json");
    assert!(
        spec.exists(),
        "{} is needed to check the generator (shared/ beside the repository)",
        spec.display()
    );
    let out = std::process::Command::new("python3")
        .arg(root.join("scripts/gen-openapi.py"))
        .arg("--check")
        .output()
        .expect("run python3 scripts/gen-openapi.py --check");
    assert!(
        out.status.success(),
        "scripts/gen-openapi.py --check: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
