//! The dashboard (`/dashboard`): sessions, their events, reports and images, webhook
//! deliveries and an overview, for people. Server-rendered HTML forms, no external assets, the
//! page's CSP; every action goes through the same domain transitions and store calls as the API.
//!
//! | path | |
//! |---|---|
//! | `GET, POST /dashboard/login`, `POST /dashboard/logout` | sign in with a secret key or the operator password; sign out |
//! | `POST /dashboard/account` | operator: choose which configured account to view |
//! | `GET /dashboard` | overview: sessions per day by outcome, median time to verify (inline SVG) |
//! | `GET /dashboard/sessions` | list: status filter with counts, search, cursor pagination |
//! | `GET /dashboard/sessions/{id}` | detail: state, `last_error`, events, reports, link, actions |
//! | `POST /dashboard/sessions/{id}/{action}` | `cancel`, `redact`, `verify`, `unverify`, `refresh_link` |
//! | `GET /dashboard/sessions/{id}/images`, `GET /dashboard/files/{id}` | uploaded images (each view is recorded) |
//! | `GET /dashboard/webhooks`, `POST /dashboard/webhooks/deliveries/{id}/resend` | endpoints, deliveries, resend |
//! | `POST /dashboard/webhooks/endpoints/{id}/test` | send a test event to one endpoint |

mod actions;
mod auth;
mod overview;
mod sessions;
mod view;
mod webhooks;

use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use vouch_api::AppState;
use vouch_store::StoreError;

use crate::html::{fill, Html};

pub use auth::SECRET_SETTING;

/// Settings of the dashboard.
#[derive(Debug, Clone, Default)]
pub struct DashboardConfig {
    /// The operator password (`[dashboard] password`): signs in to any configured account.
    pub operator_password: Option<String>,
}

/// What the dashboard's handlers reach.
#[derive(Clone)]
pub(crate) struct Dash {
    pub app: AppState,
    pub config: Arc<DashboardConfig>,
    /// The key that signs cookies and CSRF tokens, read from (or created in) the store's
    /// settings on first use, so every node shares it.
    pub secret: Arc<tokio::sync::OnceCell<Vec<u8>>>,
}

/// The dashboard's routes, ready to be merged with the API and hosted-page routers.
pub fn router(app: AppState, config: DashboardConfig) -> Router {
    let dash = Dash {
        app,
        config: Arc::new(config),
        secret: Arc::default(),
    };
    Router::new()
        .route("/dashboard", get(overview::page))
        .route("/dashboard/", get(overview::page))
        .route("/dashboard/static/dashboard.css", get(css))
        .route("/dashboard/static/dashboard.js", get(js))
        .route("/dashboard/login", get(auth::login_form).post(auth::login))
        .route("/dashboard/logout", post(auth::logout))
        .route("/dashboard/account", post(auth::switch_account))
        .route("/dashboard/sessions", get(sessions::list))
        .route("/dashboard/sessions/{id}", get(sessions::detail))
        .route("/dashboard/sessions/{id}/images", get(actions::images))
        .route("/dashboard/sessions/{id}/{action}", post(actions::act))
        .route("/dashboard/files/{id}", get(actions::file))
        .route("/dashboard/webhooks", get(webhooks::page))
        .route(
            "/dashboard/webhooks/deliveries/{id}/resend",
            post(webhooks::resend),
        )
        .route(
            "/dashboard/webhooks/endpoints/{id}/test",
            post(webhooks::send_test),
        )
        .layer(axum::middleware::from_fn(crate::log_request))
        .with_state(dash)
}

const LAYOUT: &str = include_str!("../../templates/dashboard/layout.html");
const CSS: &str = include_str!("../../static/dashboard/dashboard.css");
const JS: &str = include_str!("../../static/dashboard/dashboard.js");

async fn css() -> Response {
    crate::asset("text/css; charset=utf-8", CSS)
}

async fn js() -> Response {
    crate::asset("text/javascript; charset=utf-8", JS)
}

/// Which part of the dashboard a page belongs to (the current navigation link).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Overview,
    Sessions,
    Webhooks,
    None,
}

/// One dashboard page.
pub(crate) struct DashPage {
    pub status: StatusCode,
    pub title: String,
    pub section: Section,
    pub body: Html,
    /// The signed-in person; `None` on the sign-in page.
    pub me: Option<auth::Me>,
    pub set_cookies: Vec<String>,
}

impl DashPage {
    pub fn new(me: &auth::Me, section: Section, title: &str, body: Html) -> DashPage {
        DashPage {
            status: StatusCode::OK,
            title: title.to_owned(),
            section,
            body,
            me: Some(me.clone()),
            set_cookies: Vec::new(),
        }
    }
}

impl IntoResponse for DashPage {
    fn into_response(self) -> Response {
        let (nav, mode, banner, account) = match &self.me {
            None => (
                Html::default(),
                "mode-none",
                Html::default(),
                Html::default(),
            ),
            Some(me) => (
                view::nav(self.section),
                if me.account.livemode {
                    "mode-live"
                } else {
                    "mode-test"
                },
                view::mode_banner(&me.account),
                view::account_bar(me),
            ),
        };
        let page = fill(
            LAYOUT,
            &[
                ("title", &Html::text(&self.title)),
                ("mode", &Html::trusted(mode)),
                ("banner", &banner),
                ("account", &account),
                ("nav", &nav),
                ("body", &self.body),
            ],
        );
        let mut resp = (self.status, page.into_string()).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        secure_headers(h);
        auth::append_cookies(h, &self.set_cookies);
        resp
    }
}

/// The page's security headers: vouch's CSP, no caching, no framing, no referrer.
pub(crate) fn secure_headers(h: &mut axum::http::HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::CSP),
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
}

/// Why a dashboard request cannot be answered with its page.
#[derive(Debug)]
pub(crate) enum DashError {
    /// No valid session cookie: to the sign-in page.
    SignIn,
    /// A POST without the right CSRF token.
    Csrf,
    /// No such object in the signed-in account.
    NotFound,
    /// The request cannot be understood.
    BadRequest(String),
    /// Storage failed or a bug: logged, answered opaquely.
    Internal(String),
}

impl From<StoreError> for DashError {
    fn from(e: StoreError) -> Self {
        DashError::Internal(e.to_string())
    }
}

impl IntoResponse for DashError {
    fn into_response(self) -> Response {
        let (status, heading, message) = match self {
            DashError::SignIn => {
                let mut resp = Redirect::to("/dashboard/login").into_response();
                secure_headers(resp.headers_mut());
                return resp;
            }
            DashError::Csrf => (
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The form was not sent from this dashboard, or your sign-in changed since it \
                 was shown. Go back, reload the page and try again."
                    .to_owned(),
            ),
            DashError::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such object in this account.".to_owned(),
            ),
            DashError::BadRequest(m) => (StatusCode::BAD_REQUEST, "Bad request", m),
            DashError::Internal(cause) => {
                tracing::error!(cause = %cause, "dashboard: internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Something went wrong on our side; please try again.".to_owned(),
                )
            }
        };
        let body = Html::trusted(format!(
            "<h1>{}</h1><p>{}</p><p><a href=\"/dashboard\">Back to the dashboard</a></p>",
            Html::text(heading).as_str(),
            Html::text(&message).as_str()
        ));
        DashPage {
            status,
            title: heading.to_owned(),
            section: Section::None,
            body,
            me: None,
            set_cookies: Vec::new(),
        }
        .into_response()
    }
}
