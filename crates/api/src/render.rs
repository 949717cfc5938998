//! JSON renderings of vouch's objects, field for field as Stripe's spec orders them.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{json, Value};
use vouch_domain::outputs::{Address, Date, VerifiedOutputs};
use vouch_domain::report::{DocumentCheck, IdNumberCheck, Report, SelfieCheck};
use vouch_domain::session::{DocumentOptions, LastError, Session, WireEnum};

use crate::expand::{OutputsExpand, ReportExpand, SessionExpand};

// Every object is written straight into the response buffer through serde's serializer (no
// intermediate `Value`), field for field in the spec's order. `session` and `report` give a
// `Value` for the callers that need one (events, the dashboard).

struct DateJson<'a>(&'a Option<Date>);

impl Serialize for DateJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            None => ser.serialize_none(),
            Some(d) => {
                let mut m = ser.serialize_map(Some(3))?;
                m.serialize_entry("day", &d.day)?;
                m.serialize_entry("month", &d.month)?;
                m.serialize_entry("year", &d.year)?;
                m.end()
            }
        }
    }
}

struct AddressJson<'a>(&'a Option<Address>);

impl Serialize for AddressJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            None => ser.serialize_none(),
            Some(a) => {
                let mut m = ser.serialize_map(Some(6))?;
                m.serialize_entry("city", &a.city)?;
                m.serialize_entry("country", &a.country)?;
                m.serialize_entry("line1", &a.line1)?;
                m.serialize_entry("line2", &a.line2)?;
                m.serialize_entry("postal_code", &a.postal_code)?;
                m.serialize_entry("state", &a.state)?;
                m.end()
            }
        }
    }
}

struct ErrorJson<'a>(&'a Option<LastError>);

impl Serialize for ErrorJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            None => ser.serialize_none(),
            Some(e) => {
                let mut m = ser.serialize_map(Some(2))?;
                m.serialize_entry("code", e.code.as_str())?;
                m.serialize_entry("reason", &e.reason)?;
                m.end()
            }
        }
    }
}

struct MetadataJson<'a>(&'a [(String, String)]);

impl Serialize for MetadataJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// A `{ "key": value }` object of one optional entry (absent: `{}`).
struct MaybeEntry<'a, T>(&'static str, Option<&'a T>);

impl<T: Serialize> Serialize for MaybeEntry<'_, T> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(None)?;
        if let Some(v) = self.1 {
            m.serialize_entry(self.0, v)?;
        }
        m.end()
    }
}

struct OutputsJson<'a>(&'a VerifiedOutputs, OutputsExpand);

impl Serialize for OutputsJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let (o, e) = (self.0, self.1);
        let mut m = ser.serialize_map(None)?;
        m.serialize_entry("address", &AddressJson(&o.address))?;
        if e.dob {
            m.serialize_entry("dob", &DateJson(&o.dob))?;
        }
        m.serialize_entry("email", &o.email)?;
        m.serialize_entry("first_name", &o.first_name)?;
        if e.id_number {
            m.serialize_entry("id_number", &o.id_number)?;
        }
        m.serialize_entry("id_number_type", &o.id_number_type)?;
        m.serialize_entry("last_name", &o.last_name)?;
        m.serialize_entry("phone", &o.phone)?;
        if e.sex {
            m.serialize_entry("sex", &o.sex)?;
        }
        if e.unparsed_place_of_birth {
            m.serialize_entry("unparsed_place_of_birth", &o.unparsed_place_of_birth)?;
        }
        if e.unparsed_sex {
            m.serialize_entry("unparsed_sex", &o.unparsed_sex)?;
        }
        m.end()
    }
}

/// A VerificationSession as the API shows it. `report` is the expanded
/// `last_verification_report`, when asked for and found.
///
/// `client_secret` and `url` appear only while they can be used at `now_ms` (unused, not
/// expired, session in `requires_input`).
pub struct SessionView<'a> {
    pub session: &'a Session,
    pub expand: &'a SessionExpand,
    pub report: Option<&'a Report>,
    pub public_url: &'a str,
    pub now_ms: i64,
}

struct UrlJson<'a>(&'a str, Option<&'a str>);

impl Serialize for UrlJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        match self.1 {
            Some(token) => ser.collect_str(&format_args!("{}/verify/{token}", self.0)),
            None => ser.serialize_none(),
        }
    }
}

impl Serialize for SessionView<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let (s, e) = (self.session, self.expand);
        let mut m = ser.serialize_map(None)?;
        m.serialize_entry("id", s.id.as_str())?;
        m.serialize_entry("object", "identity.verification_session")?;
        m.serialize_entry("client_reference_id", &s.client_reference_id)?;
        m.serialize_entry("client_secret", &s.live_client_secret(self.now_ms))?;
        m.serialize_entry("created", &s.created)?;
        m.serialize_entry("last_error", &ErrorJson(&s.last_error))?;
        match (
            &s.last_verification_report,
            e.last_verification_report,
            self.report,
        ) {
            (Some(_), Some(re), Some(r)) => m.serialize_entry(
                "last_verification_report",
                &ReportView {
                    report: r,
                    expand: &re,
                },
            )?,
            (Some(id), _, _) => m.serialize_entry("last_verification_report", id.as_str())?,
            (None, _, _) => m.serialize_entry("last_verification_report", &())?,
        }
        m.serialize_entry("livemode", &s.livemode)?;
        m.serialize_entry("metadata", &MetadataJson(&s.metadata))?;
        m.serialize_entry(
            "options",
            &MaybeEntry("document", s.options.document.as_ref()),
        )?;
        if e.provided_details {
            provided_details(&mut m, s)?;
        }
        match s.redaction {
            Some(r) => m.serialize_entry("redaction", &MaybeEntry("status", Some(&r.as_str())))?,
            None => m.serialize_entry("redaction", &())?,
        }
        m.serialize_entry("related_customer", &s.related_customer)?;
        m.serialize_entry("related_customer_account", &s.related_customer_account)?;
        if let Some(p) = &s.related_person {
            m.serialize_entry("related_person", &RelatedPersonJson(p))?;
        }
        m.serialize_entry("status", s.status.as_str())?;
        m.serialize_entry("type", s.kind.as_str())?;
        m.serialize_entry(
            "url",
            &UrlJson(self.public_url, s.live_url_token(self.now_ms)),
        )?;
        if let Some(flow) = &s.verification_flow {
            m.serialize_entry("verification_flow", flow)?;
        }
        if let Some(oe) = e.verified_outputs {
            m.serialize_entry(
                "verified_outputs",
                &s.verified_outputs.as_ref().map(|o| OutputsJson(o, oe)),
            )?;
        }
        m.end()
    }
}

fn provided_details<M: SerializeMap>(m: &mut M, s: &Session) -> Result<(), M::Error> {
    struct Details<'a>(&'a vouch_domain::session::ProvidedDetails);
    impl Serialize for Details<'_> {
        fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
            let mut m = ser.serialize_map(None)?;
            if let Some(email) = &self.0.email {
                m.serialize_entry("email", email)?;
            }
            if let Some(phone) = &self.0.phone {
                m.serialize_entry("phone", phone)?;
            }
            m.end()
        }
    }
    m.serialize_entry(
        "provided_details",
        &s.provided_details.as_ref().map(Details),
    )
}

struct RelatedPersonJson<'a>(&'a vouch_domain::session::RelatedPerson);

impl Serialize for RelatedPersonJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(Some(2))?;
        m.serialize_entry("account", &self.0.account)?;
        m.serialize_entry("person", &self.0.person)?;
        m.end()
    }
}

/// A VerificationSession as a `Value` (see [`SessionView`]).
pub fn session(
    s: &Session,
    e: &SessionExpand,
    report: Option<&Report>,
    public_url: &str,
    now_ms: i64,
) -> Value {
    to_value(&SessionView {
        session: s,
        expand: e,
        report,
        public_url,
        now_ms,
    })
}

/// Serializing vouch's own types into a `Value` cannot fail (string keys, no floats).
fn to_value(v: &impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

struct SelfieJson<'a>(&'a SelfieCheck);

impl Serialize for SelfieJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let s = self.0;
        let mut m = ser.serialize_map(Some(4))?;
        m.serialize_entry("document", &s.document)?;
        m.serialize_entry("error", &ErrorJson(&s.error))?;
        m.serialize_entry("selfie", &s.selfie)?;
        m.serialize_entry("status", s.status.as_str())?;
        m.end()
    }
}

/// A VerificationReport with the includable fields `expand` asks for.
pub struct ReportView<'a> {
    pub report: &'a Report,
    pub expand: &'a ReportExpand,
}

struct DocumentJson<'a>(&'a DocumentCheck, &'a ReportExpand);

impl Serialize for DocumentJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let (d, e) = (self.0, self.1);
        let mut m = ser.serialize_map(None)?;
        m.serialize_entry("address", &AddressJson(&d.address))?;
        if e.document_dob {
            m.serialize_entry("dob", &DateJson(&d.dob))?;
        }
        m.serialize_entry("error", &ErrorJson(&d.error))?;
        if e.document_expiration_date {
            m.serialize_entry("expiration_date", &DateJson(&d.expiration_date))?;
        }
        m.serialize_entry("files", &d.files)?;
        m.serialize_entry("first_name", &d.first_name)?;
        m.serialize_entry("issued_date", &DateJson(&d.issued_date))?;
        m.serialize_entry("issuing_country", &d.issuing_country)?;
        m.serialize_entry("last_name", &d.last_name)?;
        if e.document_number {
            m.serialize_entry("number", &d.number)?;
        }
        if e.document_sex {
            m.serialize_entry("sex", &d.sex)?;
        }
        m.serialize_entry("status", d.status.as_str())?;
        m.serialize_entry("type", &d.document_type.map(|t| t.as_str()))?;
        if e.document_unparsed_place_of_birth {
            m.serialize_entry("unparsed_place_of_birth", &d.unparsed_place_of_birth)?;
        }
        if e.document_unparsed_sex {
            m.serialize_entry("unparsed_sex", &d.unparsed_sex)?;
        }
        m.end()
    }
}

struct IdNumberJson<'a>(&'a IdNumberCheck, &'a ReportExpand);

impl Serialize for IdNumberJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let (n, e) = (self.0, self.1);
        let mut m = ser.serialize_map(None)?;
        if e.id_number_dob {
            m.serialize_entry("dob", &DateJson(&n.dob))?;
        }
        m.serialize_entry("error", &ErrorJson(&n.error))?;
        m.serialize_entry("first_name", &n.first_name)?;
        if e.id_number_id_number {
            m.serialize_entry("id_number", &n.id_number)?;
        }
        m.serialize_entry("id_number_type", &n.id_number_type)?;
        m.serialize_entry("last_name", &n.last_name)?;
        m.serialize_entry("status", n.status.as_str())?;
        m.end()
    }
}

struct ReportOptionsJson<'a>(&'a Report);

impl Serialize for ReportOptionsJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut m = ser.serialize_map(None)?;
        if r.document.is_some() {
            match &r.document_options {
                Some(o) => m.serialize_entry("document", o)?,
                None => m.serialize_entry("document", &DocumentOptions::default())?,
            }
        }
        if r.id_number.is_some() {
            m.serialize_entry("id_number", &MaybeEntry::<()>("", None))?;
        }
        m.end()
    }
}

impl Serialize for ReportView<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let (r, e) = (self.report, self.expand);
        let mut m = ser.serialize_map(None)?;
        m.serialize_entry("id", r.id.as_str())?;
        m.serialize_entry("object", "identity.verification_report")?;
        m.serialize_entry("client_reference_id", &r.client_reference_id)?;
        m.serialize_entry("created", &r.created)?;
        if let Some(d) = &r.document {
            m.serialize_entry("document", &DocumentJson(d, e))?;
        }
        if let Some(n) = &r.id_number {
            m.serialize_entry("id_number", &IdNumberJson(n, e))?;
        }
        m.serialize_entry("livemode", &r.livemode)?;
        m.serialize_entry("options", &ReportOptionsJson(r))?;
        if let Some(s) = &r.selfie {
            m.serialize_entry("selfie", &SelfieJson(s))?;
        }
        m.serialize_entry("type", r.kind.as_str())?;
        if let Some(flow) = &r.verification_flow {
            m.serialize_entry("verification_flow", flow)?;
        }
        m.serialize_entry(
            "verification_session",
            &r.verification_session.as_ref().map(|s| s.as_str()),
        )?;
        m.end()
    }
}

/// A VerificationReport as a `Value` (see [`ReportView`]).
pub fn report(r: &Report, e: &ReportExpand) -> Value {
    to_value(&ReportView {
        report: r,
        expand: e,
    })
}

/// A list envelope around already-serializable items, written in one pass.
pub struct ListView<'a, T> {
    pub data: &'a [T],
    pub has_more: bool,
    pub url: &'a str,
}

impl<T: Serialize> Serialize for ListView<'_, T> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(Some(4))?;
        m.serialize_entry("object", "list")?;
        m.serialize_entry("data", self.data)?;
        m.serialize_entry("has_more", &self.has_more)?;
        m.serialize_entry("url", self.url)?;
        m.end()
    }
}

/// A response body serialized straight into bytes, `Content-Type: application/json`.
pub struct JsonBody(pub bytes::Bytes);

impl JsonBody {
    pub fn of(v: &impl Serialize) -> JsonBody {
        let mut buf = Vec::with_capacity(1024);
        // Writing vouch's own types into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut buf, v);
        JsonBody(buf.into())
    }

    /// The bytes [`ListView`] writes for items already rendered (as `JsonBody::of` would
    /// render each of them).
    pub fn list(items: &[bytes::Bytes], has_more: bool, url: &str) -> JsonBody {
        let size = items.iter().map(|i| i.len() + 1).sum::<usize>() + 64 + url.len();
        let mut buf = Vec::with_capacity(size);
        buf.extend_from_slice(b"{\"object\":\"list\",\"data\":[");
        for (n, item) in items.iter().enumerate() {
            if n > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(item);
        }
        buf.extend_from_slice(b"],\"has_more\":");
        buf.extend_from_slice(if has_more { b"true" } else { b"false" });
        buf.extend_from_slice(b",\"url\":");
        // Writing a str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut buf, url);
        buf.push(b'}');
        JsonBody(buf.into())
    }
}

impl axum::response::IntoResponse for JsonBody {
    fn into_response(self) -> axum::response::Response {
        (
            [(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            )],
            self.0,
        )
            .into_response()
    }
}

/// A list envelope.
pub fn list(data: Vec<Value>, has_more: bool, url: &str) -> Value {
    json!({"object": "list", "data": data, "has_more": has_more, "url": url})
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_list_of_rendered_items_reads_like_the_list_view() {
        let items = [json!({"id": "a", "n": [1, 2]}), json!({"id": "b\"c"})];
        let rendered: Vec<bytes::Bytes> = items.iter().map(|i| JsonBody::of(i).0).collect();
        for has_more in [false, true] {
            for n in 0..=items.len() {
                let view = JsonBody::of(&ListView {
                    data: &items[..n],
                    has_more,
                    url: "/v1/identity/verification_sessions",
                });
                let direct = JsonBody::list(
                    &rendered[..n],
                    has_more,
                    "/v1/identity/verification_sessions",
                );
                assert_eq!(view.0, direct.0);
            }
        }
    }
}
