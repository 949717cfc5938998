//! Idempotency as a layer in front of the router: every POST with an `Idempotency-Key` is
//! claimed in the store (per account) before it runs, and its response is stored after, so a
//! retry — on this node or another, before or after a restart — gets the same answer.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use vouch_store::{IdempotencyBegin, IdempotencyClaim};

use crate::context::{authenticate, read_body};
use crate::error::{ApiError, NotExecuted};
use crate::expand::{self, SessionExpand};
use crate::form::{self, FormMap};
use crate::params::Params;
use crate::state::AppState;

pub const MAX_KEY_LEN: usize = 255;
/// How long a running request holds its key before a retry may take it over.
const LEASE_MS: i64 = 60_000;
/// How long a key is remembered.
pub const TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// Runs `inner` for the request, unless it is a POST whose `Idempotency-Key` was seen: then
/// the stored answer (or the reason it cannot run now) is the response.
pub async fn around<F, Fut>(state: &AppState, request_id: &str, req: Request, inner: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    if req.method() != Method::POST {
        return inner(req).await;
    }
    let key = match req
        .headers()
        .get(&crate::context::IDEMPOTENCY_KEY)
        .map(|v| v.to_str())
    {
        None => return inner(req).await,
        Some(Ok(k)) if k.trim().is_empty() => return inner(req).await,
        Some(Ok(k)) if k.len() > MAX_KEY_LEN => {
            return ApiError::IdempotencyKeyTooLong.into_response()
        }
        Some(Ok(k)) => k.trim().to_owned(),
        Some(Err(_)) => return ApiError::IdempotencyKeyTooLong.into_response(),
    };
    // Without a valid key the handler answers 401; nothing to claim.
    let Ok(account) = authenticate(req.headers(), state).await else {
        return inner(req).await;
    };
    let (parts, body) = req.into_parts();
    let bytes = match read_body(body, &state.config).await {
        Ok(bytes) => bytes,
        Err(e) => return e.into_response(),
    };
    let fingerprint = fingerprint(&parts.method, parts.uri.path(), parts.uri.query(), &bytes);
    let claim = IdempotencyClaim {
        account: &account.id,
        key: &key,
        fingerprint: &fingerprint,
        now_ms: state.clock.now_ms(),
        lease_ms: LEASE_MS,
        ttl_ms: TTL_MS,
    };
    match state.store.idempotency_begin(claim).await {
        Err(e) => return ApiError::from(e).into_response(),
        Ok(IdempotencyBegin::Mismatch) => {
            return ApiError::IdempotencyMismatch { key }.into_response()
        }
        Ok(IdempotencyBegin::InProgress) => {
            return ApiError::IdempotencyInProgress { key }.into_response()
        }
        Ok(IdempotencyBegin::Replay { status, body }) => return replay(status, body),
        Ok(IdempotencyBegin::ReplayRedacted { status, session_id }) => {
            let query = parts.uri.query();
            return match redacted_body(state, &account.id, &session_id, query, &bytes).await {
                Ok(body) => replay(status, body),
                Err(e) => e.into_response(),
            };
        }
        Ok(IdempotencyBegin::Started) => {}
    }
    let resp = inner(Request::from_parts(parts, Body::from(bytes))).await;
    if resp.extensions().get::<NotExecuted>().is_some() {
        if let Err(e) = state.store.idempotency_release(&account.id, &key).await {
            tracing::error!(request_id, cause = %e, "idempotency: release failed");
        }
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let bytes = match to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return ApiError::Internal(format!("response body: {e}")).into_response(),
    };
    let text = String::from_utf8_lossy(&bytes);
    let session_id = shown_session(&text);
    if let Err(e) = state
        .store
        .idempotency_complete(
            &account.id,
            &key,
            parts.status.as_u16(),
            &text,
            session_id.as_deref(),
        )
        .await
    {
        tracing::error!(request_id, cause = %e, "idempotency: storing the response failed");
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, body).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    resp
}

/// The body of a replay whose stored response showed a session redacted since: that session
/// as it is now (Stripe's placeholders), with the request's `expand[]`. Read-only: nothing
/// runs again, no event is made.
async fn redacted_body(
    state: &AppState,
    account: &str,
    session_id: &str,
    query: Option<&str>,
    body: &[u8],
) -> Result<String, ApiError> {
    let id = crate::handlers::parse_session_id(session_id, "id")?;
    // The request was accepted once with these parameters, so they parse; should they not,
    // the session is shown without expansions.
    let mut map = FormMap::new();
    let parsed = form::parse_into(&mut map, query.unwrap_or("").as_bytes())
        .and_then(|()| form::parse_into(&mut map, body));
    let expand = match parsed {
        Ok(()) => expand::session(&mut Params::new(map), false).unwrap_or_default(),
        Err(_) => SessionExpand::default(),
    };
    let session = state
        .store
        .get_session(account, &id)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("replay: session {id} is gone")))?;
    let shown = crate::handlers::render_session(state, &session, &expand).await?;
    String::from_utf8(shown.0.to_vec()).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Method, path and parameters; the order of the parameters does not matter.
fn fingerprint(method: &Method, path: &str, query: Option<&str>, body: &[u8]) -> String {
    let mut pairs: Vec<&[u8]> = query
        .unwrap_or("")
        .as_bytes()
        .split(|&b| b == b'&')
        .chain(body.split(|&b| b == b'&'))
        .filter(|p| !p.is_empty())
        .collect();
    pairs.sort_unstable();
    let mut h = Sha256::new();
    h.update(method.as_str().as_bytes());
    h.update(b" ");
    h.update(path.as_bytes());
    for p in pairs {
        h.update(b"\n");
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The id of the VerificationSession a response body shows, if any: redaction erases the
/// stored body of such a response, and its replay renders the session again.
fn shown_session(body: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Shown {
        id: Option<String>,
    }
    serde_json::from_str::<Shown>(body)
        .ok()?
        .id
        .filter(|id| id.starts_with("vs_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_ignores_order_but_not_values_or_endpoint() {
        let p = "/v1/identity/verification_sessions";
        let a = fingerprint(&Method::POST, p, None, b"type=document&metadata[a]=1");
        let b = fingerprint(&Method::POST, p, None, b"metadata[a]=1&type=document");
        let c = fingerprint(&Method::POST, p, None, b"metadata[a]=2&type=document");
        let d = fingerprint(
            &Method::POST,
            "/v1/other",
            None,
            b"type=document&metadata[a]=1",
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn finds_the_session_a_response_shows() {
        assert_eq!(
            shown_session(r#"{"id":"vs_123","object":"identity.verification_session"}"#),
            Some("vs_123".into())
        );
        assert_eq!(shown_session(r#"{"error":{"type":"x"}}"#), None);
        assert_eq!(shown_session("not json"), None);
    }
}
