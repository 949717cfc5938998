//! The one error table: every error vouch answers maps here to an HTTP status and Stripe's
//! error body. Anything unmapped is an `Internal` error: logged with its cause, answered as an
//! opaque 500.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use vouch_domain::session::WireEnum;
use vouch_domain::transition::DomainError;
use vouch_store::StoreError;

use crate::form::FormError;
use crate::params::ParamError;

#[derive(Debug)]
pub enum ApiError {
    Param(ParamError),
    Form(FormError),
    /// `''` sent for a parameter that cannot be unset.
    EmptyNotAllowed {
        param: String,
    },
    MissingParam {
        param: String,
    },
    /// Two parameters that cannot be used together.
    Exclusive {
        params: [&'static str; 2],
    },
    /// No object `id` of this kind (`VerificationSession`, …); `param` names where the id came from.
    NoSuch {
        kind: &'static str,
        id: String,
        param: &'static str,
    },
    Domain(DomainError),
    LimitTooSmall,
    LimitTooLarge,
    /// `expand` path that cannot be expanded; `hint` is the `data.` form for lists.
    CannotExpand {
        path: String,
        list_hint: bool,
    },
    MissingApiKey,
    InvalidApiKey {
        masked: String,
    },
    BodyTooLarge {
        limit: usize,
    },
    UnknownRoute {
        method: String,
        path: String,
    },
    /// `Idempotency-Key` reused with other parameters or on another endpoint.
    IdempotencyMismatch {
        key: String,
    },
    /// `Idempotency-Key` of a request that is still running.
    IdempotencyInProgress {
        key: String,
    },
    IdempotencyKeyTooLong,
    /// The client did not send its body in time.
    RequestTimeout,
    /// Stripe's rate limit (only with rate limiting turned on).
    RateLimited,
    /// A 500 asked for by fault injection.
    InjectedFault,
    /// The account already has the maximum number of webhook endpoints.
    WebhookEndpointLimit {
        livemode: bool,
    },
    /// A webhook endpoint `url` that is not an http(s) URL.
    InvalidUrl {
        url: String,
    },
    /// `connect=true`: vouch has no Connect accounts.
    ConnectUnsupported,
    /// vouch extension: a delivery whose endpoint is disabled cannot be resent.
    EndpointDisabled {
        id: String,
    },
    /// vouch extension: an API key of one mode cannot create a key of the other.
    ApiKeyModeMismatch {
        livemode: bool,
    },
    /// vouch extension: configured keys are revoked by changing the configuration.
    ConfiguredKeyNotRevocable {
        id: String,
    },
    /// Anything else: a bug or an outage. The cause is logged, never sent.
    Internal(String),
}

impl From<ParamError> for ApiError {
    fn from(e: ParamError) -> Self {
        ApiError::Param(e)
    }
}

impl From<FormError> for ApiError {
    fn from(e: FormError) -> Self {
        ApiError::Form(e)
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::Domain(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// Stripe's error body fields.
struct Body {
    status: StatusCode,
    kind: &'static str,
    code: Option<&'static str>,
    message: String,
    param: Option<String>,
}

fn invalid(
    status: StatusCode,
    code: Option<&'static str>,
    message: String,
    param: Option<String>,
) -> Body {
    Body {
        status,
        kind: "invalid_request_error",
        code,
        message,
        param,
    }
}

const BAD: StatusCode = StatusCode::BAD_REQUEST;

impl ApiError {
    fn body(&self) -> Body {
        match self {
            ApiError::Param(e) => {
                let code = match e {
                    ParamError::UnknownParam { .. } => Some("parameter_unknown"),
                    ParamError::InvalidInteger { .. } => Some("parameter_invalid_integer"),
                    _ => None,
                };
                invalid(BAD, code, e.to_string(), Some(e.param().to_owned()))
            }
            ApiError::Form(e) => {
                let param = match e {
                    FormError::Conflict { param } => Some(param.clone()),
                    _ => None,
                };
                invalid(BAD, None, e.to_string(), param)
            }
            ApiError::EmptyNotAllowed { param } => invalid(
                BAD,
                Some("parameter_invalid_empty"),
                format!(
                    "You passed an empty string for '{param}'. We assume empty values are an \
                     attempt to unset a parameter; however '{param}' cannot be unset. You should \
                     remove '{param}' from your request or supply a non-empty value."
                ),
                Some(param.clone()),
            ),
            ApiError::MissingParam { param } => invalid(
                BAD,
                Some("parameter_missing"),
                format!("Missing required param: {param}."),
                Some(param.clone()),
            ),
            ApiError::Exclusive { params: [a, b] } => invalid(
                BAD,
                Some("parameters_exclusive"),
                format!("You may only specify one of these parameters: {a}, {b}."),
                Some((*a).to_owned()),
            ),
            ApiError::NoSuch { kind, id, param } => invalid(
                StatusCode::NOT_FOUND,
                Some("resource_missing"),
                format!("No such {kind}: '{id}'"),
                Some((*param).to_owned()),
            ),
            ApiError::Domain(e) => domain_body(e),
            ApiError::LimitTooSmall => invalid(
                BAD,
                None,
                "This value must be greater than or equal to 1.".into(),
                Some("limit".into()),
            ),
            ApiError::LimitTooLarge => invalid(
                BAD,
                None,
                "This value must be less than or equal to 100.".into(),
                Some("limit".into()),
            ),
            ApiError::CannotExpand { path, list_hint } => {
                let mut message = format!("This property cannot be expanded ({path}).");
                if *list_hint {
                    message.push_str(&format!(
                        " You may want to try expanding 'data.{path}' instead."
                    ));
                }
                invalid(BAD, None, message, Some("expand".into()))
            }
            ApiError::MissingApiKey => invalid(
                StatusCode::UNAUTHORIZED,
                None,
                "You did not provide an API key. You need to provide your API key in the \
                 Authorization header, using Bearer auth (e.g. 'Authorization: Bearer \
                 YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, \
                 or we can help at https://support.stripe.com/."
                    .into(),
                None,
            ),
            ApiError::InvalidApiKey { masked } => invalid(
                StatusCode::UNAUTHORIZED,
                None,
                format!("Invalid API Key provided: {masked}"),
                None,
            ),
            ApiError::BodyTooLarge { limit } => invalid(
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
                format!("Request body too large: the limit is {limit} bytes."),
                None,
            ),
            ApiError::UnknownRoute { method, path } => invalid(
                StatusCode::NOT_FOUND,
                None,
                format!(
                    "Unrecognized request URL ({method}: {path}). Please see \
                     https://stripe.com/docs or we can help at https://support.stripe.com/."
                ),
                None,
            ),
            ApiError::IdempotencyMismatch { key } => Body {
                status: BAD,
                kind: "idempotency_error",
                code: None,
                message: format!(
                    "Keys for idempotent requests can only be used with the same parameters they \
                     were first used with. Try using a key other than '{key}' if you meant to \
                     execute a different request."
                ),
                param: None,
            },
            ApiError::IdempotencyInProgress { key } => invalid(
                StatusCode::CONFLICT,
                Some("idempotency_key_in_use"),
                format!(
                    "There is currently another in-progress request using this Idempotent Key \
                     (that probably means you submitted twice, and the other request is still \
                     going through): {key}. Please try again later."
                ),
                None,
            ),
            ApiError::IdempotencyKeyTooLong => invalid(
                BAD,
                None,
                "Invalid Idempotency-Key: it can be at most 255 characters long.".into(),
                None,
            ),
            ApiError::RequestTimeout => invalid(
                StatusCode::REQUEST_TIMEOUT,
                None,
                "Timed out reading the request body.".into(),
                None,
            ),
            ApiError::WebhookEndpointLimit { livemode } => invalid(
                BAD,
                None,
                format!(
                    "You have reached the maximum of {} {} webhook endpoints.",
                    vouch_domain::webhook::MAX_ENDPOINTS,
                    if *livemode { "live" } else { "test" }
                ),
                None,
            ),
            ApiError::InvalidUrl { url } => invalid(
                BAD,
                Some("url_invalid"),
                format!("Invalid URL: {url}. URLs must begin with http:// or https://."),
                Some("url".into()),
            ),
            ApiError::ConnectUnsupported => invalid(
                BAD,
                None,
                "Connect webhook endpoints are not supported: vouch has no connected accounts."
                    .into(),
                Some("connect".into()),
            ),
            ApiError::EndpointDisabled { id } => invalid(
                BAD,
                None,
                format!(
                    "The webhook endpoint {id} is disabled. Enable it to resend its deliveries."
                ),
                None,
            ),
            ApiError::ApiKeyModeMismatch { livemode } => {
                let (have, other) = if *livemode {
                    ("live", "test")
                } else {
                    ("test", "live")
                };
                invalid(
                    BAD,
                    None,
                    format!(
                        "A {have} mode key cannot create a {other} mode key: a created key \
                         belongs to the account of the key that creates it, and has its mode."
                    ),
                    Some("mode".into()),
                )
            }
            ApiError::ConfiguredKeyNotRevocable { id } => invalid(
                BAD,
                None,
                format!(
                    "The API key {id} comes from vouch's configuration and cannot be revoked \
                     through the API. Remove it from the configuration (--api-key, \
                     VOUCH_API_KEY, --api-key-file) and restart vouch."
                ),
                Some("id".into()),
            ),
            ApiError::RateLimited => Body {
                status: StatusCode::TOO_MANY_REQUESTS,
                kind: "invalid_request_error",
                code: Some("rate_limit"),
                message: "Request rate limit exceeded. You can learn more about rate limits here \
                          https://stripe.com/docs/rate-limits."
                    .into(),
                param: None,
            },
            ApiError::InjectedFault => Body {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                kind: "api_error",
                code: None,
                message: "An error was injected by vouch's fault injection (a vouch testing \
                          extension); retry the request."
                    .into(),
                param: None,
            },
            ApiError::Internal(_) => Body {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                kind: "api_error",
                code: None,
                message: "An unexpected error occurred on vouch's side. The cause has been \
                          logged with this request's id."
                    .into(),
                param: None,
            },
        }
    }
}

fn domain_body(e: &DomainError) -> Body {
    match e {
        DomainError::WrongState {
            action,
            status,
            allowed,
        } => {
            let allowed_q = DomainError::quoted(allowed);
            let noun = if allowed.len() == 1 {
                "status"
            } else {
                "statuses"
            };
            let participle = match *action {
                "cancel" => "canceled",
                "update" => "updated",
                "redact" => "redacted",
                "verify" => "verified",
                other => other,
            };
            invalid(
                BAD,
                None,
                format!(
                    "You cannot {action} this VerificationSession because it has a status of \
                     \"{}\". Only a VerificationSession in {allowed_q} {noun} may be {participle}.",
                    status.as_str()
                ),
                None,
            )
        }
        DomainError::Redacted { action } => invalid(
            BAD,
            None,
            format!(
                "You cannot {action} this VerificationSession because it has been redacted. \
                 Redacted objects cannot be updated or used for any purpose."
            ),
            None,
        ),
        DomainError::MetadataTooManyKeys => invalid(
            BAD,
            None,
            "Invalid metadata: metadata cannot have more than 50 keys.".into(),
            Some("metadata".into()),
        ),
        DomainError::MetadataKeyTooLong { key } => invalid(
            BAD,
            None,
            "Metadata keys can have a maximum length of 40 characters.".into(),
            Some(format!("metadata[{key}]")),
        ),
        DomainError::MetadataValueTooLong { key } => invalid(
            BAD,
            None,
            "Metadata values can have a maximum length of 500 characters.".into(),
            Some(format!("metadata[{key}]")),
        ),
        DomainError::CodeDoesNotFit { code } => invalid(
            BAD,
            None,
            format!(
                "The error code '{}' cannot result from this VerificationSession's checks.",
                code.as_str()
            ),
            Some("last_error[code]".into()),
        ),
        DomainError::LinkUnusable => invalid(
            BAD,
            None,
            "This verification link was already used or has expired.".into(),
            None,
        ),
        DomainError::LiveMode { action } => invalid(
            BAD,
            None,
            format!(
                "You can only {action} a VerificationSession with a test helper in test mode. \
                 Use a test mode API key (sk_test_…)."
            ),
            None,
        ),
    }
}

/// Marks a response whose request never began executing (it failed validation, or collided
/// with a concurrent one): its idempotency key stores nothing, as at Stripe.
#[derive(Debug, Clone, Copy)]
pub struct NotExecuted;

impl ApiError {
    /// Whether the request was refused before it began executing.
    fn is_validation(&self) -> bool {
        match self {
            ApiError::Domain(e) => matches!(
                e,
                DomainError::MetadataTooManyKeys
                    | DomainError::MetadataKeyTooLong { .. }
                    | DomainError::MetadataValueTooLong { .. }
            ),
            ApiError::NoSuch { .. } | ApiError::Internal(_) => false,
            _ => true,
        }
    }

    /// The HTTP status and Stripe's message, for pages that show an error to a person (the
    /// dashboard). An internal error is logged and answered with an opaque message.
    pub fn status_and_message(&self) -> (StatusCode, String) {
        if let ApiError::Internal(cause) = self {
            tracing::error!(cause = %cause, "internal error");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side; please try again.".into(),
            );
        }
        let b = self.body();
        (b.status, b.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let validation = self.is_validation();
        // Logged by the API's middleware, with the request's id.
        let internal = match &self {
            ApiError::Internal(cause) => Some(crate::context::InternalCause(cause.clone())),
            _ => None,
        };
        let b = self.body();
        let mut err = Map::new();
        if let Some(code) = b.code {
            err.insert("code".into(), json!(code));
            err.insert(
                "doc_url".into(),
                json!(format!(
                    "https://stripe.com/docs/error-codes/{}",
                    code.replace('_', "-")
                )),
            );
        }
        err.insert("message".into(), json!(b.message));
        if let Some(param) = b.param {
            err.insert("param".into(), json!(param));
        }
        err.insert("type".into(), json!(b.kind));
        let body = json!({ "error": Value::Object(err) });
        let mut resp = (b.status, axum::Json(body)).into_response();
        if b.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Stripe\""),
            );
        }
        if b.status.is_server_error() {
            resp.headers_mut()
                .insert("stripe-should-retry", HeaderValue::from_static("true"));
        }
        // 500s store nothing either: the SDKs retry them with the same key.
        if validation || b.status.is_server_error() {
            resp.extensions_mut().insert(NotExecuted);
        }
        if let Some(cause) = internal {
            resp.extensions_mut().insert(cause);
        }
        resp
    }
}
