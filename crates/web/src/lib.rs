//! The hosted verification page: what a session's `url` opens. Plain HTML forms (every step
//! works without JavaScript), a little JavaScript for camera capture and for following
//! processing, templates and assets embedded in the binary, no external URLs.
//!
//! Routes (merged next to the API by the server):
//!
//! | path | |
//! |---|---|
//! | `GET /verify/{token}` | consent |
//! | `POST /verify/{token}/decline` | consent declined (`last_error: consent_declined`) |
//! | `GET /verify/{token}/document` | choose the document type among `allowed_types` |
//! | `GET, POST /verify/{token}/upload` | front, back, selfie images (multipart) |
//! | `GET /verify/{token}/details` | live: the zone, dates, ID number; test: outcome chooser |
//! | `POST /verify/{token}/submit` | submits: the link is used from here on |
//! | `GET /verify/{token}/status[.json]` | processing, then the outcome |
//! | `GET /verify-static/page.{css,js}` | the page's assets |
//!
//! The dashboard (`/dashboard`, [`dashboard::router`]) is merged next to it.

pub mod dashboard;
pub mod form;
pub mod html;
pub mod images;
pub mod multipart;
mod steps;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use vouch_api::AppState;
use vouch_domain::checks::{BuiltinVerifier, Verifier};
use vouch_store::StoreError;

use html::{fill, Html};

/// Settings of the hosted page.
#[derive(Clone)]
pub struct PageConfig {
    /// Largest accepted image, in bytes.
    pub max_image_bytes: usize,
    /// What decides a live-mode submission: `BuiltinVerifier` (minimum age 18) unless a
    /// plug-in replaces it.
    pub verifier: Arc<dyn Verifier>,
}

impl Default for PageConfig {
    fn default() -> Self {
        PageConfig {
            max_image_bytes: 10 * 1024 * 1024,
            verifier: Arc::new(BuiltinVerifier { min_age: 18 }),
        }
    }
}

impl std::fmt::Debug for PageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageConfig")
            .field("max_image_bytes", &self.max_image_bytes)
            .finish_non_exhaustive()
    }
}

/// What the page's handlers reach: the API's state and the page's settings.
#[derive(Clone)]
pub(crate) struct Web {
    pub app: AppState,
    pub config: Arc<PageConfig>,
}

/// The hosted page's routes, ready to be merged with the API router.
pub fn router(app: AppState, config: PageConfig) -> Router {
    let web = Web {
        app,
        config: Arc::new(config),
    };
    Router::new()
        .route("/verify-static/page.css", get(css))
        .route("/verify-static/page.js", get(js))
        .route("/verify/{token}", get(steps::consent))
        .route("/verify/{token}/decline", post(steps::decline))
        .route("/verify/{token}/document", get(steps::document))
        .route(
            "/verify/{token}/upload",
            get(steps::upload_form).post(steps::upload),
        )
        .route("/verify/{token}/details", get(steps::details))
        .route("/verify/{token}/submit", post(steps::submit))
        .route("/verify/{token}/status", get(steps::status))
        .route("/verify/{token}/status.json", get(steps::status_json))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(web)
}

/// The Content-Security-Policy of every page response: nothing but vouch itself.
pub const CSP: &str =
    "default-src 'self'; img-src 'self' blob:; media-src 'self' blob: mediastream:; \
                       frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const LAYOUT: &str = include_str!("../templates/layout.html");
const PAGE_CSS: &str = include_str!("../static/page.css");
const PAGE_JS: &str = include_str!("../static/page.js");

async fn css() -> Response {
    asset("text/css; charset=utf-8", PAGE_CSS)
}

async fn js() -> Response {
    asset("text/javascript; charset=utf-8", PAGE_JS)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// One log line per page request, naming the route pattern (never the link token).
async fn log_request(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "/verify/…".to_owned(), |p| p.as_str().to_owned());
    let resp = next.run(req).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        target: "vouch::http",
        method = %method,
        path = %route,
        status = resp.status().as_u16(),
        latency_ms = format_args!("{latency_ms:.2}"),
        "page request"
    );
    resp
}

/// Where the user is in the flow (the progress list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Consent,
    Document,
    Photos,
    Details,
    Result,
}

/// One HTML page.
pub(crate) struct Page {
    pub status: StatusCode,
    pub title: String,
    pub body: Html,
    pub head: Html,
    /// The steps shown in the progress list and the current one.
    pub steps: Option<(Vec<Step>, Step)>,
    pub test_mode: bool,
}

impl Page {
    pub fn new(title: &str, body: Html) -> Page {
        Page {
            status: StatusCode::OK,
            title: title.to_owned(),
            body,
            head: Html::default(),
            steps: None,
            test_mode: false,
        }
    }
}

fn step_name(step: Step) -> &'static str {
    match step {
        Step::Consent => "Consent",
        Step::Document => "Document",
        Step::Photos => "Photos",
        Step::Details => "Details",
        Step::Result => "Result",
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let steps = match &self.steps {
            None => Html::default(),
            Some((all, current)) => {
                let mut out = Html::trusted("<ol class=\"steps\" aria-label=\"Progress\">");
                for (i, step) in all.iter().enumerate() {
                    let attr = if step == current {
                        " aria-current=\"step\""
                    } else {
                        ""
                    };
                    out.push(Html::trusted(format!(
                        "<li{attr}>{}. {}</li>",
                        i + 1,
                        step_name(*step)
                    )));
                }
                out.push(Html::trusted("</ol>"));
                out
            }
        };
        let badge = if self.test_mode {
            Html::trusted("<span class=\"badge\">Test mode</span>")
        } else {
            Html::default()
        };
        let title = Html::text(&self.title);
        let page = fill(
            LAYOUT,
            &[
                ("title", &title),
                ("head", &self.head),
                ("badge", &badge),
                ("steps", &steps),
                ("body", &self.body),
            ],
        );
        let mut resp = (self.status, page.into_string()).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        resp
    }
}

/// Why a page cannot be shown; each renders as its own page.
#[derive(Debug)]
pub(crate) enum PageError {
    /// No link has this token.
    UnknownLink,
    /// The link was used, expired, or replaced by a fresher one; `expired` when it is the
    /// session's current link and only its age stops it.
    UsedLink {
        return_url: Option<String>,
        expired: bool,
    },
    /// The request cannot be understood.
    BadRequest(String),
    /// Storage failed or a bug: logged, answered opaquely.
    Internal(String),
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        PageError::Internal(e.to_string())
    }
}

const MESSAGE: &str = include_str!("../templates/message.html");

/// A "Continue" link to the integration's `return_url`, when it is a web address.
pub(crate) fn continue_link(return_url: Option<&str>, label: &str) -> Html {
    match return_url.filter(|u| is_web_url(u)) {
        Some(u) => Html::trusted(format!(
            "<p class=\"actions\"><a class=\"button primary\" href=\"{}\">{}</a></p>",
            html::escape(u),
            html::escape(label)
        )),
        None => Html::default(),
    }
}

/// Only http(s) return URLs become links (never `javascript:` and the like).
pub(crate) fn is_web_url(u: &str) -> bool {
    let lower = u.trim_start().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")) && !u.contains(char::is_control)
}

pub(crate) fn message_page(
    status: StatusCode,
    title: &str,
    heading: &str,
    message: &str,
    link: Html,
) -> Page {
    let body = fill(
        MESSAGE,
        &[
            ("heading", &Html::text(heading)),
            ("message", &Html::text(message)),
            ("continue", &link),
        ],
    );
    let mut page = Page::new(title, body);
    page.status = status;
    page
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::UnknownLink => message_page(
                StatusCode::NOT_FOUND,
                "Link not valid",
                "This verification link is not valid",
                "Check that you opened the whole link you were given, or ask the site that sent you here for a new one.",
                Html::default(),
            ),
            PageError::UsedLink {
                return_url,
                expired: true,
            } => message_page(
                StatusCode::GONE,
                "Link expired",
                "This link has expired",
                "A verification link works for 48 hours. Return to the site that sent you here to get a new one.",
                continue_link(return_url.as_deref(), "Return to the site"),
            ),
            PageError::UsedLink {
                return_url,
                expired: false,
            } => message_page(
                StatusCode::GONE,
                "Link already used or expired",
                "This link was already used or has expired",
                "Each verification link works once and for a limited time. Return to the site that sent you here to get a new one.",
                continue_link(return_url.as_deref(), "Return to the site"),
            ),
            PageError::BadRequest(message) => message_page(
                StatusCode::BAD_REQUEST,
                "Something went wrong",
                "We could not read that request",
                &message,
                Html::default(),
            ),
            PageError::Internal(cause) => {
                tracing::error!(cause = %cause, "hosted page: internal error");
                message_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Something went wrong on our side",
                    "Please try again in a moment.",
                    Html::default(),
                )
            }
        }
        .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_urls_become_links() {
        assert!(is_web_url("https://example.com/back?x=1"));
        assert!(is_web_url("HTTP://example.com"));
        assert!(!is_web_url("javascript:alert(1)"));
        assert!(!is_web_url("data:text/html,x"));
        assert!(!is_web_url("https://exa\nmple.com"));
        let link = continue_link(Some("https://e.com/?a=\"><script>"), "Go");
        assert!(link.as_str().contains("&quot;&gt;&lt;script&gt;"));
        assert_eq!(continue_link(Some("javascript:x"), "Go"), Html::default());
    }
}
