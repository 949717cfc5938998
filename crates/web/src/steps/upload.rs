//! The photos step: the upload form and the multipart upload that stores each image as a
//! File object of the session.

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rand::rngs::StdRng;
use rand::SeedableRng;
use vouch_domain::ids::FileId;
use vouch_domain::session::{DocumentType, Session, WireEnum};
use vouch_store::StoredFile;

use super::form_html::{error_summary, field_error, FieldError};
use super::{
    base, carried, chosen_type, document_name, load_live, page, query, see_other, PURPOSE,
};
use crate::form::Fields;
use crate::html::{escape, fill, Html};
use crate::{images, multipart, Page, PageError, Step, Web};

const UPLOAD: &str = include_str!("../../templates/upload.html");

/// Which images the session needs for a document type.
fn image_slots(session: &Session, t: DocumentType) -> Vec<(&'static str, String, &'static str)> {
    let name = document_name(t);
    let mut slots = vec![(
        "front",
        if t == DocumentType::Passport {
            format!("Photo page of your {name}")
        } else {
            format!("Front of your {name}")
        },
        "environment",
    )];
    if t != DocumentType::Passport {
        slots.push(("back", format!("Back of your {name}"), "environment"));
    }
    if session.checks_selfie() {
        slots.push(("selfie", "A photo of your face".to_owned(), "user"));
    }
    slots
}

fn mb(bytes: usize) -> String {
    let mb = bytes as f64 / (1024.0 * 1024.0);
    if (mb - mb.round()).abs() < 0.05 {
        format!("{} MB", mb.round())
    } else {
        format!("{mb:.1} MB")
    }
}

/// The upload form, with the errors of a previous try.
fn upload_page(
    web: &Web,
    token: &str,
    session: &Session,
    t: DocumentType,
    errors: &[(&str, String)],
) -> Page {
    let mut inputs = Html::default();
    for (name, label, facing) in image_slots(session, t) {
        let error = errors.iter().find(|(n, _)| *n == name).map(|(_, m)| m);
        let required = if session.livemode { " required" } else { "" };
        let FieldError {
            invalid,
            describedby,
            html: error_html,
        } = field_error(name, error);
        let hint = if name == "selfie" {
            "Look straight at the camera, in good light."
        } else {
            "All four corners visible, no glare."
        };
        inputs.push(Html::trusted(format!(
            "<div class=\"field\"><label for=\"{name}\" id=\"{name}-label\">{}</label>\
             <span class=\"hint\" id=\"{name}-hint\">{hint}</span>{error_html}\
             <input type=\"file\" id=\"{name}\" name=\"{name}\" \
             accept=\"image/png,image/jpeg,image/webp\" data-capture=\"{facing}\" \
             aria-describedby=\"{describedby}\"{invalid}{required}></div>",
            escape(&label)
        )));
    }
    let errors_html = error_summary(errors);
    let skip = if session.livemode {
        Html::default()
    } else {
        Html::trusted(
            "<button type=\"submit\" class=\"secondary\" name=\"skip\" value=\"yes\" formnovalidate>\
             Skip photos (test mode)</button>",
        )
    };
    let body = fill(
        UPLOAD,
        &[
            ("document_name", &Html::text(document_name(t))),
            ("errors", &errors_html),
            ("max_size", &Html::text(&mb(web.config.max_image_bytes))),
            ("action", &Html::text(&format!("{}/upload", base(token)))),
            ("document_type", &Html::text(t.as_str())),
            ("inputs", &inputs),
            ("skip", &skip),
        ],
    );
    page(session, "Add photos", Step::Photos, body)
}

pub(crate) async fn upload_form(
    State(web): State<Web>,
    token: Result<Path<String>, PathRejection>,
    uri: Uri,
) -> Result<Response, PageError> {
    let (token, session) = load_live(&web, &token).await?;
    let q = query(&uri);
    if q.get("consent") != Some("yes") {
        return Ok(see_other(&base(&token)));
    }
    if !session.checks_document() {
        return Ok(see_other(&format!("{}/details?consent=yes", base(&token))));
    }
    let t = chosen_type(&session, &q);
    Ok(upload_page(&web, &token, &session, t, &[]).into_response())
}

pub(crate) async fn upload(
    State(web): State<Web>,
    token: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, PageError> {
    let (token, session) = load_live(&web, &token).await?;
    if !session.checks_document() {
        return Ok(see_other(&format!("{}/details?consent=yes", base(&token))));
    }
    let max = web.config.max_image_bytes;
    let fallback_type = chosen_type(&session, &Fields::default());
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(boundary) = multipart::boundary(content_type) else {
        let mut p = upload_page(
            &web,
            &token,
            &session,
            fallback_type,
            &[(
                "front",
                "Send the photos with the form on this page.".to_owned(),
            )],
        );
        p.status = StatusCode::UNSUPPORTED_MEDIA_TYPE;
        return Ok(p.into_response());
    };
    // Three images and the form's few small fields.
    let limit = max.saturating_mul(3).saturating_add(64 * 1024);
    let timeout =
        std::time::Duration::from_millis(web.app.config.body_read_timeout_ms.max(1000) * 6);
    let bytes = match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Err(_) => {
            return Err(PageError::BadRequest(
                "The upload took too long. Please try again.".into(),
            ))
        }
        Ok(Err(_)) => {
            let mut p = upload_page(
                &web,
                &token,
                &session,
                fallback_type,
                &[(
                    "front",
                    format!(
                        "The upload is too large: each image may be at most {}.",
                        mb(max)
                    ),
                )],
            );
            p.status = StatusCode::PAYLOAD_TOO_LARGE;
            return Ok(p.into_response());
        }
        Ok(Ok(b)) => b,
    };
    let parts = multipart::parse(&bytes, &boundary).map_err(|_| {
        PageError::BadRequest("The upload could not be read. Please go back and try again.".into())
    })?;
    let mut fields = Fields::default();
    let mut files: Vec<(&str, &[u8])> = Vec::new();
    for part in &parts {
        match (part.name.as_str(), &part.filename) {
            (name @ ("front" | "back" | "selfie"), Some(_))
                if !part.data.is_empty() && !files.iter().any(|(n, _)| *n == name) =>
            {
                files.push((name, part.data));
            }
            (name @ ("consent" | "document_type" | "skip"), None) => {
                fields.set(name, &String::from_utf8_lossy(part.data));
            }
            _ => {}
        }
    }
    let t = chosen_type(&session, &fields);
    let slots = image_slots(&session, t);
    let mut next = carried(&fields);
    next.set("consent", "yes");
    next.set("document_type", t.as_str());
    if fields.get("skip") == Some("yes") && !session.livemode {
        return Ok(see_other(&format!(
            "{}/details?{}",
            base(&token),
            next.encode()
        )));
    }
    let mut errors: Vec<(&str, String)> = Vec::new();
    let mut status = StatusCode::BAD_REQUEST;
    let mut accepted: Vec<(&str, &'static str, &[u8])> = Vec::new();
    for (name, label, _) in &slots {
        match files.iter().find(|(n, _)| n == name) {
            None if session.livemode => {
                errors.push((name, format!("Add: {}.", label.to_lowercase())))
            }
            None => {}
            Some((_, data)) if data.len() > max => {
                status = StatusCode::PAYLOAD_TOO_LARGE;
                errors.push((
                    name,
                    format!("{label}: the image is larger than {}.", mb(max)),
                ));
            }
            Some((_, data)) => match images::sniff(data) {
                Some(media_type) => accepted.push((name, media_type, data)),
                None => {
                    if status != StatusCode::PAYLOAD_TOO_LARGE {
                        status = StatusCode::UNSUPPORTED_MEDIA_TYPE;
                    }
                    errors.push((
                        name,
                        format!("{label}: this file is not a PNG, JPEG or WebP image."),
                    ));
                }
            },
        }
    }
    if !errors.is_empty() {
        let mut p = upload_page(&web, &token, &session, t, &errors);
        p.status = status;
        return Ok(p.into_response());
    }
    let now_ms = web.app.clock.now_ms();
    let mut rng = StdRng::from_entropy();
    for (name, media_type, data) in accepted {
        let id = FileId::generate(now_ms.div_euclid(1000), &mut rng);
        let file = StoredFile {
            id: id.clone(),
            account: session.account.clone(),
            session_id: session.id.clone(),
            purpose: PURPOSE.to_owned(),
            media_type: media_type.to_owned(),
            created: now_ms.div_euclid(1000),
            bytes: data.to_vec(),
        };
        web.app.store.put_file(&file).await?;
        next.set(name, id.as_str());
    }
    Ok(see_other(&format!(
        "{}/details?{}",
        base(&token),
        next.encode()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_megabytes() {
        assert_eq!(mb(10 * 1024 * 1024), "10 MB");
        assert_eq!(mb(1536 * 1024), "1.5 MB");
    }
}
