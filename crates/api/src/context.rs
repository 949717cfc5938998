//! Per-request plumbing: the request id, the one log line per request, echoed headers, and
//! the extractors that turn requests into authenticated accounts and Stripe parameters.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use vouch_domain::event::RequestInfo;
use vouch_domain::ids::push_random_alnum;
use vouch_domain::session::Account;

use crate::error::ApiError;
use crate::form::{self, FormMap};
use crate::params::Params;
use crate::state::{mask_key, ApiConfig, AppState};

/// Facts about the current request that handlers record (for example in events).
#[derive(Debug, Clone)]
pub struct RequestCtx {
    pub request_id: String,
    pub idempotency_key: Option<String>,
}

impl RequestCtx {
    pub fn info(&self) -> RequestInfo {
        RequestInfo {
            id: Some(self.request_id.clone()),
            idempotency_key: self.idempotency_key.clone(),
        }
    }
}

/// Header names the API reads or writes on every request, built at compile time: a name
/// given as a string is parsed and hashed again on each lookup (docs/benchmarks.md).
pub(crate) const STRIPE_VERSION: HeaderName = HeaderName::from_static("stripe-version");
pub(crate) const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");

/// The one middleware in front of the API routes: assigns `Request-Id`, echoes
/// `Stripe-Version`, applies injected faults and idempotency (in that order, see
/// [`crate::faults::around`] and [`crate::idempotency::around`]), logs the cause of an
/// internal error with the request's id, and writes one log line per request.
///
/// One `from_fn` layer instead of three: each layer clones the boxed inner service and boxes
/// a future per request (docs/benchmarks.md).
pub async fn api_layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = request_id(&mut rand::thread_rng());
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let version = req
        .headers()
        .get(&STRIPE_VERSION)
        .cloned()
        .filter(|v| !v.is_empty() && v.len() <= 100);
    let idempotency_key = req
        .headers()
        .get(&IDEMPOTENCY_KEY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    req.extensions_mut().insert(RequestCtx {
        request_id: request_id.clone(),
        idempotency_key,
    });
    let mut resp = crate::faults::around(&state, req, |req| {
        crate::idempotency::around(&state, &request_id, req, |req| next.run(req))
    })
    .await;
    if let Some(InternalCause(cause)) = resp.extensions_mut().remove::<InternalCause>() {
        tracing::error!(request_id = %request_id, cause = %cause, "internal error");
    }
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID, v);
    }
    let version = version.unwrap_or_else(|| {
        HeaderValue::from_str(&state.config.default_api_version)
            .unwrap_or(HeaderValue::from_static("2026-09-30.endive"))
    });
    headers.insert(STRIPE_VERSION, version);
    state.access_log.record(&crate::access_log::RequestLine {
        at: crate::access_log::wall_clock(),
        method: method.as_str(),
        path: &path,
        status: resp.status().as_u16(),
        latency_us: started.elapsed().as_micros(),
        request_id: &request_id,
    });
    resp
}

/// `req_` and 14 random letters and digits, written into one allocation.
fn request_id(rng: &mut impl rand::Rng) -> String {
    let mut id = String::with_capacity(18);
    id.push_str("req_");
    push_random_alnum(&mut id, rng, 14);
    id
}

/// The cause of an opaque 500, carried on the response to [`api_layer`], which logs it with
/// the request's id (an error cannot know which request it belongs to).
#[derive(Debug, Clone)]
pub struct InternalCause(pub String);

/// The account of the request's secret key (Bearer, or Basic with the key as user name).
pub struct Auth(pub Account);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(&parts.headers, state).await.map(Auth)
    }
}

/// The account whose secret key the request carries: a configured key, else a key created
/// at runtime and not revoked (looked up in the store, cached briefly per node).
pub async fn authenticate(headers: &HeaderMap, state: &AppState) -> Result<Account, ApiError> {
    let key = api_key(headers).ok_or(ApiError::MissingApiKey)?;
    if key.is_empty() {
        return Err(ApiError::MissingApiKey);
    }
    if let Some(account) = state.keys.account(&key) {
        return Ok(account.clone());
    }
    crate::keys::lookup(state, &key)
        .await?
        .ok_or_else(|| ApiError::InvalidApiKey {
            masked: mask_key(&key),
        })
}

fn api_key(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        Some(rest.to_owned())
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = decode_base64(rest)?;
        let text = String::from_utf8(decoded).ok()?;
        Some(
            text.split_once(':')
                .map_or(text.as_str(), |(u, _)| u)
                .to_owned(),
        )
    } else {
        // Anything else is treated as a key sent without a scheme, and judged as a key.
        Some(value.to_owned())
    }
}

/// Standard base64 (padding optional); None on anything else.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Stripe parameters: the query string, and for POST/DELETE also the form body.
pub struct StripeParams(pub Params);

impl FromRequest<AppState> for StripeParams {
    type Rejection = ApiError;

    async fn from_request(req: Request<Body>, state: &AppState) -> Result<Self, ApiError> {
        let mut map = FormMap::new();
        if let Some(q) = req.uri().query() {
            form::parse_into(&mut map, q.as_bytes())?;
        }
        if req.method() != Method::GET && req.method() != Method::HEAD {
            let bytes = read_body(req.into_body(), &state.config).await?;
            form::parse_into(&mut map, &bytes)?;
        }
        Ok(StripeParams(Params::new(map)))
    }
}

/// Reads a request body whole: at most `max_body_bytes`, within `body_read_timeout_ms`.
pub async fn read_body(body: Body, config: &ApiConfig) -> Result<bytes::Bytes, ApiError> {
    let limit = config.max_body_bytes;
    let timeout = std::time::Duration::from_millis(config.body_read_timeout_ms);
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Err(_) => Err(ApiError::RequestTimeout),
        Ok(Err(_)) => Err(ApiError::BodyTooLarge { limit }),
        Ok(Ok(bytes)) => Ok(bytes),
    }
}

/// The `{id}` path segment, percent-decoded; anything undecodable cannot name an object.
pub struct PathId(pub String);

impl FromRequestParts<AppState> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match axum::extract::Path::<String>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(id)) => Ok(PathId(id)),
            // Only an undecodable segment gets here: no route can match it.
            Err(_) => Err(ApiError::UnknownRoute {
                method: parts.method.to_string(),
                path: parts.uri.path().to_owned(),
            }),
        }
    }
}

/// Unknown path or method.
pub async fn unknown_route(req: Request) -> impl IntoResponse {
    ApiError::UnknownRoute {
        method: req.method().to_string(),
        path: req.uri().path().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::decode_base64;

    #[test]
    fn base64_decodes_basic_credentials() {
        assert_eq!(
            decode_base64("c2tfdGVzdF8xMjM6").as_deref(),
            Some(&b"sk_test_123:"[..])
        );
        assert_eq!(decode_base64("!!"), None);
    }
}
