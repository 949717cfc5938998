//! JSON renderings of vouch's objects, field for field as Stripe's spec orders them.

use serde_json::{json, Map, Value};
use vouch_domain::outputs::{Address, Date, VerifiedOutputs};
use vouch_domain::report::{Report, SelfieCheck};
use vouch_domain::session::{LastError, Session, WireEnum};

use crate::expand::{OutputsExpand, ReportExpand, SessionExpand};

fn date(d: &Option<Date>) -> Value {
    match d {
        Some(d) => json!({"day": d.day, "month": d.month, "year": d.year}),
        None => Value::Null,
    }
}

fn address(a: &Option<Address>) -> Value {
    match a {
        Some(a) => json!({
            "city": a.city, "country": a.country, "line1": a.line1,
            "line2": a.line2, "postal_code": a.postal_code, "state": a.state,
        }),
        None => Value::Null,
    }
}

fn error(e: &Option<LastError>) -> Value {
    match e {
        Some(e) => json!({"code": e.code.as_str(), "reason": e.reason}),
        None => Value::Null,
    }
}

fn metadata(m: &[(String, String)]) -> Value {
    Value::Object(m.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

fn outputs(o: &VerifiedOutputs, e: OutputsExpand) -> Value {
    let mut m = Map::new();
    m.insert("address".into(), address(&o.address));
    if e.dob {
        m.insert("dob".into(), date(&o.dob));
    }
    m.insert("email".into(), json!(o.email));
    m.insert("first_name".into(), json!(o.first_name));
    if e.id_number {
        m.insert("id_number".into(), json!(o.id_number));
    }
    m.insert("id_number_type".into(), json!(o.id_number_type));
    m.insert("last_name".into(), json!(o.last_name));
    m.insert("phone".into(), json!(o.phone));
    if e.sex {
        m.insert("sex".into(), json!(o.sex));
    }
    if e.unparsed_place_of_birth {
        m.insert(
            "unparsed_place_of_birth".into(),
            json!(o.unparsed_place_of_birth),
        );
    }
    if e.unparsed_sex {
        m.insert("unparsed_sex".into(), json!(o.unparsed_sex));
    }
    Value::Object(m)
}

/// A VerificationSession. `report` is the expanded `last_verification_report`, when asked for
/// and found.
///
/// `client_secret` and `url` appear only while they can be used at `now_ms` (unused, not
/// expired, session in `requires_input`).
pub fn session(
    s: &Session,
    e: &SessionExpand,
    report: Option<&Report>,
    public_url: &str,
    now_ms: i64,
) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(s.id.as_str()));
    m.insert("object".into(), json!("identity.verification_session"));
    m.insert("client_reference_id".into(), json!(s.client_reference_id));
    m.insert("client_secret".into(), json!(s.live_client_secret(now_ms)));
    m.insert("created".into(), json!(s.created));
    m.insert("last_error".into(), error(&s.last_error));
    let lvr = match (
        &s.last_verification_report,
        e.last_verification_report,
        report,
    ) {
        (Some(_), Some(re), Some(r)) => self::report(r, &re),
        (Some(id), _, _) => json!(id.as_str()),
        (None, _, _) => Value::Null,
    };
    m.insert("last_verification_report".into(), lvr);
    m.insert("livemode".into(), json!(s.livemode));
    m.insert("metadata".into(), metadata(&s.metadata));
    let mut options = Map::new();
    if let Some(d) = &s.options.document {
        options.insert("document".into(), json!(d));
    }
    m.insert("options".into(), Value::Object(options));
    if e.provided_details {
        let pd = s.provided_details.as_ref().map(|p| {
            let mut pm = Map::new();
            if let Some(email) = &p.email {
                pm.insert("email".into(), json!(email));
            }
            if let Some(phone) = &p.phone {
                pm.insert("phone".into(), json!(phone));
            }
            Value::Object(pm)
        });
        m.insert("provided_details".into(), pd.unwrap_or(Value::Null));
    }
    m.insert(
        "redaction".into(),
        match s.redaction {
            Some(r) => json!({"status": r.as_str()}),
            None => Value::Null,
        },
    );
    m.insert("related_customer".into(), json!(s.related_customer));
    m.insert(
        "related_customer_account".into(),
        json!(s.related_customer_account),
    );
    if let Some(p) = &s.related_person {
        m.insert(
            "related_person".into(),
            json!({"account": p.account, "person": p.person}),
        );
    }
    m.insert("status".into(), json!(s.status.as_str()));
    m.insert("type".into(), json!(s.kind.as_str()));
    m.insert(
        "url".into(),
        match s.live_url_token(now_ms) {
            Some(t) => json!(format!("{public_url}/verify/{t}")),
            None => Value::Null,
        },
    );
    if let Some(flow) = &s.verification_flow {
        m.insert("verification_flow".into(), json!(flow));
    }
    if let Some(oe) = e.verified_outputs {
        m.insert(
            "verified_outputs".into(),
            s.verified_outputs
                .as_ref()
                .map_or(Value::Null, |o| outputs(o, oe)),
        );
    }
    Value::Object(m)
}

fn selfie(s: &SelfieCheck) -> Value {
    json!({
        "document": s.document,
        "error": error(&s.error),
        "selfie": s.selfie,
        "status": s.status.as_str(),
    })
}

/// A VerificationReport with the includable fields `e` asks for.
pub fn report(r: &Report, e: &ReportExpand) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(r.id.as_str()));
    m.insert("object".into(), json!("identity.verification_report"));
    m.insert("client_reference_id".into(), json!(r.client_reference_id));
    m.insert("created".into(), json!(r.created));
    if let Some(d) = &r.document {
        let mut dm = Map::new();
        dm.insert("address".into(), address(&d.address));
        if e.document_dob {
            dm.insert("dob".into(), date(&d.dob));
        }
        dm.insert("error".into(), error(&d.error));
        if e.document_expiration_date {
            dm.insert("expiration_date".into(), date(&d.expiration_date));
        }
        dm.insert("files".into(), json!(d.files));
        dm.insert("first_name".into(), json!(d.first_name));
        dm.insert("issued_date".into(), date(&d.issued_date));
        dm.insert("issuing_country".into(), json!(d.issuing_country));
        dm.insert("last_name".into(), json!(d.last_name));
        if e.document_number {
            dm.insert("number".into(), json!(d.number));
        }
        if e.document_sex {
            dm.insert("sex".into(), json!(d.sex));
        }
        dm.insert("status".into(), json!(d.status.as_str()));
        dm.insert("type".into(), json!(d.document_type.map(|t| t.as_str())));
        if e.document_unparsed_place_of_birth {
            dm.insert(
                "unparsed_place_of_birth".into(),
                json!(d.unparsed_place_of_birth),
            );
        }
        if e.document_unparsed_sex {
            dm.insert("unparsed_sex".into(), json!(d.unparsed_sex));
        }
        m.insert("document".into(), Value::Object(dm));
    }
    if let Some(n) = &r.id_number {
        let mut nm = Map::new();
        if e.id_number_dob {
            nm.insert("dob".into(), date(&n.dob));
        }
        nm.insert("error".into(), error(&n.error));
        nm.insert("first_name".into(), json!(n.first_name));
        if e.id_number_id_number {
            nm.insert("id_number".into(), json!(n.id_number));
        }
        nm.insert("id_number_type".into(), json!(n.id_number_type));
        nm.insert("last_name".into(), json!(n.last_name));
        nm.insert("status".into(), json!(n.status.as_str()));
        m.insert("id_number".into(), Value::Object(nm));
    }
    m.insert("livemode".into(), json!(r.livemode));
    let mut options = Map::new();
    if r.document.is_some() {
        options.insert(
            "document".into(),
            json!(r.document_options.clone().unwrap_or_default()),
        );
    }
    if r.id_number.is_some() {
        options.insert("id_number".into(), json!({}));
    }
    m.insert("options".into(), Value::Object(options));
    if let Some(s) = &r.selfie {
        m.insert("selfie".into(), selfie(s));
    }
    m.insert("type".into(), json!(r.kind.as_str()));
    if let Some(flow) = &r.verification_flow {
        m.insert("verification_flow".into(), json!(flow));
    }
    m.insert(
        "verification_session".into(),
        json!(r.verification_session.as_ref().map(|s| s.as_str())),
    );
    Value::Object(m)
}

/// A list envelope.
pub fn list(data: Vec<Value>, has_more: bool, url: &str) -> Value {
    json!({"object": "list", "data": data, "has_more": has_more, "url": url})
}
