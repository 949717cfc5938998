//! Signing in and out, the session cookie and CSRF tokens.
//!
//! The cookie (`vouch_dashboard`) is `who.account.expires.nonce.mac`: `who` is `k` (signed in
//! with the account's configured secret key), a key id `key_…` (a key created at runtime, which
//! must still be unrevoked on every request) or `o` (the operator password), `expires` unix
//! seconds, and
//! `mac` an HMAC-SHA256 of the rest under a server secret kept in the store's settings
//! (generated on first use, shared by every node). Operator cookies also bind a hash of the
//! operator password, so changing it signs operators out. The cookie is `HttpOnly`,
//! `SameSite=Strict`, `Path=/dashboard`, expires after 8 hours, and is `Secure` when the
//! public URL is https. Every form carries a CSRF token derived from the cookie's nonce; the
//! sign-in form gets its own from a short-lived pre-sign-in cookie.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::{Digest, Sha256};
use vouch_api::keys::configured_key_id;
use vouch_domain::ids::random_alnum;
use vouch_domain::session::Account;

use super::{secure_headers, view, Dash, DashError, DashPage, Section};
use crate::form::Fields;
use crate::html::{fill, Html};

/// The store setting that holds the cookie-signing secret (hex).
pub const SECRET_SETTING: &str = "dashboard_cookie_secret";
const COOKIE: &str = "vouch_dashboard";
const LOGIN_COOKIE: &str = "vouch_dashboard_login";
/// How long a sign-in lasts.
const SESSION_SECONDS: i64 = 8 * 3600;
/// How long the sign-in form stays usable.
const LOGIN_SECONDS: i64 = 3600;
/// Largest form body the dashboard reads.
const MAX_FORM_BYTES: usize = 64 * 1024;

const LOGIN: &str = include_str!("../../templates/dashboard/login.html");

/// How the person signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Who {
    /// With the account's configured secret key.
    Key,
    /// With a key created at runtime (`/v1/vouch/api_keys`): its id.
    CreatedKey(String),
    /// With the operator password.
    Operator,
}

/// The signed-in person: the account they see and their CSRF token.
#[derive(Debug, Clone)]
pub(crate) struct Me {
    pub who: Who,
    pub account: Account,
    pub csrf: String,
    /// Every configured account, for the operator's account choice.
    pub accounts: Vec<Account>,
}

impl Me {
    /// The hidden CSRF field of a form.
    pub fn csrf_field(&self) -> Html {
        csrf_input(&self.csrf)
    }
}

/// Who is acting, as the audit trail records it: the id of the key that signed in (`key_…`,
/// as `/v1/vouch/api_keys` lists it) or `operator`. Never a secret.
pub(crate) fn principal(dash: &Dash, me: &Me) -> String {
    match &me.who {
        Who::Operator => "operator".to_owned(),
        Who::CreatedKey(id) => id.clone(),
        Who::Key => dash
            .app
            .keys
            .configured_key(&me.account.id)
            .map_or_else(|| "key".to_owned(), |(k, _)| configured_key_id(k)),
    }
}

fn csrf_input(token: &str) -> Html {
    Html::trusted(format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        Html::text(token).as_str()
    ))
}

/// The signing secret, created in the store's settings the first time it is needed.
async fn secret(dash: &Dash) -> Result<&[u8], DashError> {
    let store = dash.app.store.clone();
    let bytes = dash
        .secret
        .get_or_try_init(|| async move {
            let fresh: String = {
                let mut rng = rand::thread_rng();
                (0..32)
                    .map(|_| format!("{:02x}", rng.gen::<u8>()))
                    .collect()
            };
            let stored = store.put_setting_if_absent(SECRET_SETTING, &fresh).await?;
            Ok::<_, DashError>(stored.into_bytes())
        })
        .await?;
    Ok(bytes.as_slice())
}

fn mac_hex(secret: &[u8], message: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(message.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// A token: the first 128 bits of a MAC.
fn short(mac: String) -> String {
    mac.chars().take(32).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Equality that takes the same time wherever the inputs differ.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What an operator cookie's MAC also covers: a hash of the current operator password.
fn password_binding(dash: &Dash) -> Option<String> {
    dash.config
        .operator_password
        .as_deref()
        .map(|p| hex(&Sha256::digest(p.as_bytes())))
}

fn who_tag(who: &Who) -> &str {
    match who {
        Who::Key => "k",
        Who::CreatedKey(id) => id,
        Who::Operator => "o",
    }
}

/// The MAC'd message of a session cookie.
fn session_message(dash: &Dash, who: &Who, account: &str, expires: i64, nonce: &str) -> String {
    let binding = match who {
        Who::Key | Who::CreatedKey(_) => String::new(),
        Who::Operator => password_binding(dash).unwrap_or_default(),
    };
    format!(
        "session|{}|{account}|{expires}|{nonce}|{binding}",
        who_tag(who)
    )
}

fn now_s(dash: &Dash) -> i64 {
    dash.app.clock.now_ms().div_euclid(1000)
}

fn cookie_attrs(dash: &Dash, max_age: i64) -> String {
    let secure = if dash.app.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    format!("; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

/// A fresh session cookie for `account`.
async fn session_cookie(dash: &Dash, who: &Who, account: &str) -> Result<String, DashError> {
    let secret = secret(dash).await?;
    let expires = now_s(dash) + SESSION_SECONDS;
    let nonce = random_alnum(&mut rand::thread_rng(), 24);
    let mac = mac_hex(
        secret,
        &session_message(dash, who, account, expires, &nonce),
    );
    Ok(format!(
        "{COOKIE}={}.{account}.{expires}.{nonce}.{mac}{}",
        who_tag(who),
        cookie_attrs(dash, SESSION_SECONDS)
    ))
}

fn cleared(dash: &Dash, name: &str) -> String {
    format!("{name}={}", cookie_attrs(dash, 0))
}

/// The value of cookie `name` in the request.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// The signed-in person, from a valid, unexpired cookie naming a configured account, or the
/// account of a created key that is still unrevoked.
pub(crate) async fn me(dash: &Dash, headers: &HeaderMap) -> Result<Me, DashError> {
    let value = cookie(headers, COOKIE).ok_or(DashError::SignIn)?;
    let parts: Vec<&str> = value.split('.').collect();
    let [who, account, expires, nonce, mac] = parts[..] else {
        return Err(DashError::SignIn);
    };
    let who = match who {
        "k" => Who::Key,
        "o" if dash.config.operator_password.is_some() => Who::Operator,
        id if id.starts_with("key_") => Who::CreatedKey(id.to_owned()),
        _ => return Err(DashError::SignIn),
    };
    let expires: i64 = expires.parse().map_err(|_| DashError::SignIn)?;
    let secret = secret(dash).await?;
    let expected = mac_hex(
        secret,
        &session_message(dash, &who, account, expires, nonce),
    );
    if !ct_eq(expected.as_bytes(), mac.as_bytes()) || expires <= now_s(dash) {
        return Err(DashError::SignIn);
    }
    let accounts = dash.app.keys.accounts();
    let account = match &who {
        // Revoked (or deleted) keys end their sign-ins; the answer is cached for at most
        // `vouch_api::keys::CACHE_TTL` on nodes other than the one that revoked.
        Who::CreatedKey(id) => vouch_api::keys::lookup_id(&dash.app, account, id)
            .await
            .map_err(|e| DashError::Internal(e.status_and_message().1))?,
        Who::Key | Who::Operator => accounts.iter().find(|a| a.id == account).cloned(),
    }
    .ok_or(DashError::SignIn)?;
    Ok(Me {
        who,
        account,
        csrf: short(mac_hex(secret, &format!("csrf|{nonce}"))),
        accounts,
    })
}

/// Reads a form body (at most 64 KiB).
pub(crate) async fn read_form(body: Body) -> Result<Fields, DashError> {
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| DashError::BadRequest("The form is too large.".into()))?;
    Ok(Fields::parse(&bytes))
}

/// The signed-in person, when the form carries their CSRF token.
pub(crate) async fn me_with_csrf(
    dash: &Dash,
    headers: &HeaderMap,
    fields: &Fields,
) -> Result<Me, DashError> {
    let me = me(dash, headers).await?;
    let sent = fields.get("csrf").unwrap_or("");
    if ct_eq(sent.as_bytes(), me.csrf.as_bytes()) {
        Ok(me)
    } else {
        tracing::warn!(account = %me.account.id, "dashboard: form refused (CSRF token)");
        Err(DashError::Csrf)
    }
}

/// The sign-in page, with a fresh pre-sign-in cookie and its CSRF token.
async fn login_page(dash: &Dash, status: StatusCode, error: &str) -> Result<Response, DashError> {
    let secret = secret(dash).await?;
    let nonce = random_alnum(&mut rand::thread_rng(), 24);
    let expires = now_s(dash) + LOGIN_SECONDS;
    let mac = mac_hex(secret, &format!("login|{expires}|{nonce}"));
    let token = short(mac_hex(secret, &format!("login-csrf|{nonce}")));
    let error = if error.is_empty() {
        Html::default()
    } else {
        Html::trusted(format!(
            "<div class=\"notice error\" role=\"alert\" id=\"login-error\">{}</div>",
            Html::text(error).as_str()
        ))
    };
    let operator = if dash.config.operator_password.is_some() {
        Html::trusted(format!(
            "<form method=\"post\" action=\"/dashboard/login\" class=\"stack\">\
             <h2>Operator</h2>{}\
             <input type=\"hidden\" name=\"kind\" value=\"operator\">\
             <div class=\"field\"><label for=\"password\">Operator password</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required></div>\
             <button type=\"submit\" class=\"button\">Sign in as operator</button></form>",
            csrf_input(&token).as_str()
        ))
    } else {
        Html::default()
    };
    let body = fill(
        LOGIN,
        &[
            ("error", &error),
            ("csrf", &csrf_input(&token)),
            ("operator", &operator),
        ],
    );
    let mut page = DashPage {
        status,
        title: "Sign in".into(),
        section: Section::None,
        body,
        me: None,
        set_cookies: vec![format!(
            "{LOGIN_COOKIE}={expires}.{nonce}.{mac}{}",
            cookie_attrs(dash, LOGIN_SECONDS)
        )],
    };
    page.status = status;
    Ok(page.into_response())
}

pub(crate) async fn login_form(
    State(dash): State<Dash>,
    headers: HeaderMap,
) -> Result<Response, DashError> {
    if me(&dash, &headers).await.is_ok() {
        return Ok(see_other("/dashboard"));
    }
    login_page(&dash, StatusCode::OK, "").await
}

/// Whether the form carries the token of the request's pre-sign-in cookie.
async fn login_csrf_ok(
    dash: &Dash,
    headers: &HeaderMap,
    fields: &Fields,
) -> Result<bool, DashError> {
    let secret = secret(dash).await?;
    let Some(value) = cookie(headers, LOGIN_COOKIE) else {
        return Ok(false);
    };
    let parts: Vec<&str> = value.split('.').collect();
    let [expires, nonce, mac] = parts[..] else {
        return Ok(false);
    };
    let expected = mac_hex(secret, &format!("login|{expires}|{nonce}"));
    let fresh = expires.parse::<i64>().is_ok_and(|e| e > now_s(dash));
    let token = short(mac_hex(secret, &format!("login-csrf|{nonce}")));
    let sent = fields.get("csrf").unwrap_or("");
    Ok(fresh
        && ct_eq(expected.as_bytes(), mac.as_bytes())
        && ct_eq(token.as_bytes(), sent.as_bytes()))
}

pub(crate) async fn login(
    State(dash): State<Dash>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, DashError> {
    let fields = read_form(body).await?;
    if !login_csrf_ok(&dash, &headers, &fields).await? {
        return login_page(
            &dash,
            StatusCode::FORBIDDEN,
            "The sign-in form expired. Please try again.",
        )
        .await;
    }
    let signed_in = if fields.get("kind") == Some("operator") {
        let sent = fields.get("password").unwrap_or("");
        match &dash.config.operator_password {
            Some(p) if ct_eq(&Sha256::digest(p), &Sha256::digest(sent)) => {
                let first = dash.app.keys.accounts().into_iter().next();
                first.map(|a| (Who::Operator, a.id))
            }
            _ => None,
        }
    } else {
        let key = fields.get("key").unwrap_or("").trim();
        match dash.app.keys.account(key) {
            Some(a) => Some((Who::Key, a.id.clone())),
            None => vouch_api::keys::find(&dash.app, key)
                .await
                .map_err(|e| DashError::Internal(e.status_and_message().1))?
                .map(|k| (Who::CreatedKey(k.id), k.account)),
        }
    };
    let Some((who, account)) = signed_in else {
        // A pause makes guessing slow; the message never repeats what was typed.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        tracing::warn!("dashboard: sign-in refused");
        let message = if fields.get("kind") == Some("operator") {
            "That is not the operator password."
        } else {
            "That is not a secret key of this server. Use an sk_test_… or sk_live_… key it was started with or one created with vouch keys create."
        };
        return login_page(&dash, StatusCode::UNAUTHORIZED, message).await;
    };
    tracing::info!(account = %account, operator = who == Who::Operator, "dashboard: signed in");
    let cookies = [
        session_cookie(&dash, &who, &account).await?,
        cleared(&dash, LOGIN_COOKIE),
    ];
    Ok(see_other_setting("/dashboard", &cookies))
}

pub(crate) async fn logout(
    State(dash): State<Dash>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, DashError> {
    let fields = read_form(body).await?;
    me_with_csrf(&dash, &headers, &fields).await?;
    Ok(see_other_setting(
        "/dashboard/login",
        &[cleared(&dash, COOKIE)],
    ))
}

/// Operator only: view another configured account (a new cookie for it).
pub(crate) async fn switch_account(
    State(dash): State<Dash>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, DashError> {
    let fields = read_form(body).await?;
    let me = me_with_csrf(&dash, &headers, &fields).await?;
    if me.who != Who::Operator {
        return Err(DashError::Csrf);
    }
    let wanted = fields.get("account").unwrap_or("");
    let account = me
        .accounts
        .iter()
        .find(|a| a.id == wanted)
        .ok_or_else(|| DashError::BadRequest("No such account on this server.".into()))?;
    let cookie = session_cookie(&dash, &Who::Operator, &account.id).await?;
    Ok(see_other_setting("/dashboard", &[cookie]))
}

pub(crate) fn see_other(to: &str) -> Response {
    see_other_setting(to, &[])
}

/// A 303 to `to` that sets these cookies.
fn see_other_setting(to: &str, cookies: &[String]) -> Response {
    let mut resp = Redirect::to(to).into_response();
    secure_headers(resp.headers_mut());
    append_cookies(resp.headers_mut(), cookies);
    resp
}

/// Adds one `Set-Cookie` header per cookie.
pub(crate) fn append_cookies(h: &mut HeaderMap, cookies: &[String]) {
    for c in cookies {
        if let Ok(v) = axum::http::HeaderValue::from_str(c) {
            h.append(axum::http::header::SET_COOKIE, v);
        }
    }
}

/// The label of an account in the operator's choice.
pub(crate) fn account_label(a: &Account) -> String {
    format!("{} ({})", a.id, view::mode_name(a.livemode))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_equality() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
        assert!(ct_eq(b"", b""));
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            axum::http::HeaderValue::from_static("vouch_dashboard_login=x; vouch_dashboard=y.z"),
        );
        assert_eq!(cookie(&h, COOKIE), Some("y.z"));
        assert_eq!(cookie(&h, LOGIN_COOKIE), Some("x"));
        assert_eq!(cookie(&h, "other"), None);
    }

    #[test]
    fn macs_depend_on_secret_and_message() {
        let a = mac_hex(b"k1", "m");
        assert_eq!(a.len(), 64);
        assert_ne!(a, mac_hex(b"k2", "m"));
        assert_ne!(a, mac_hex(b"k1", "n"));
    }
}
