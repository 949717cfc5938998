//! Prefixed, time-sortable identifiers as validated newtypes.
//!
//! An id is `<prefix>_` followed by 24 ASCII alphanumerics: six base62 characters of the
//! creation time in seconds (so ids sort roughly by time) and eighteen random ones. Ids made
//! with [`Id::generate_ms`] (sessions, their events and reports) spend two of the random
//! characters on the millisecond, so the ids a node makes within one second sort too.

use std::fmt;
use std::marker::PhantomData;

use rand::Rng;

pub(crate) const ALPHABET: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Length of the part after the prefix.
pub const SUFFIX_LEN: usize = 24;

/// What an id names: its prefix and the name Stripe uses in error messages.
pub trait IdKind {
    const PREFIX: &'static str;
    const NAME: &'static str;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionKind;
impl IdKind for SessionKind {
    const PREFIX: &'static str = "vs";
    const NAME: &'static str = "VerificationSession";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReportKind;
impl IdKind for ReportKind {
    const PREFIX: &'static str = "vr";
    const NAME: &'static str = "VerificationReport";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventKind;
impl IdKind for EventKind {
    const PREFIX: &'static str = "evt";
    const NAME: &'static str = "event";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestKind;
impl IdKind for RequestKind {
    const PREFIX: &'static str = "req";
    const NAME: &'static str = "Request";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WebhookEndpointKind;
impl IdKind for WebhookEndpointKind {
    const PREFIX: &'static str = "we";
    const NAME: &'static str = "webhook endpoint";
}

/// vouch's own: one event on its way to one webhook endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeliveryKind;
impl IdKind for DeliveryKind {
    const PREFIX: &'static str = "whdel";
    const NAME: &'static str = "webhook delivery";
}

/// An uploaded file (the hosted page's document and selfie images).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileKind;
impl IdKind for FileKind {
    const PREFIX: &'static str = "file";
    const NAME: &'static str = "file";
}

/// A validated id of kind `K`.
pub struct Id<K> {
    value: String,
    kind: PhantomData<K>,
}

pub type SessionId = Id<SessionKind>;
pub type ReportId = Id<ReportKind>;
pub type EventId = Id<EventKind>;
pub type RequestId = Id<RequestKind>;
pub type WebhookEndpointId = Id<WebhookEndpointKind>;
pub type DeliveryId = Id<DeliveryKind>;
pub type FileId = Id<FileKind>;

impl<K: IdKind> Id<K> {
    /// A new id for something created at `now` (unix seconds).
    pub fn generate(now: i64, rng: &mut impl Rng) -> Self {
        let mut s = String::with_capacity(K::PREFIX.len() + 1 + SUFFIX_LEN);
        s.push_str(K::PREFIX);
        s.push('_');
        s.push_str(&time_sorted_alnum(now, rng, SUFFIX_LEN));
        Id {
            value: s,
            kind: PhantomData,
        }
    }

    /// A new id for something created at `now_ms` (unix milliseconds): the time in seconds,
    /// then the millisecond in two characters, then sixteen random ones (95 bits). Ids made
    /// within a few milliseconds share a few index pages instead of scattering over every
    /// page of that second (one random page per insert and per index, which every group
    /// commit then writes to the WAL).
    pub fn generate_ms(now_ms: i64, rng: &mut impl Rng) -> Self {
        let mut s = String::with_capacity(K::PREFIX.len() + 1 + SUFFIX_LEN);
        s.push_str(K::PREFIX);
        s.push('_');
        push_time_sorted_alnum_ms(&mut s, now_ms, rng, SUFFIX_LEN);
        Id {
            value: s,
            kind: PhantomData,
        }
    }

    /// Accepts exactly what [`Id::generate`] produces; anything else cannot exist in the store.
    pub fn parse(s: &str) -> Option<Self> {
        let rest = s.strip_prefix(K::PREFIX)?.strip_prefix('_')?;
        if rest.len() == SUFFIX_LEN && rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Some(Id {
                value: s.to_owned(),
                kind: PhantomData,
            })
        } else {
            None
        }
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }
}

/// `len` (at least 6) ASCII alphanumerics: `now` (unix seconds) in six base-62 digits, then
/// random ones. Values made later sort after earlier ones, so an index over them grows at its
/// end (a few pages touched per batch of inserts, not one random page per insert).
pub fn time_sorted_alnum(now: i64, rng: &mut impl Rng, len: usize) -> String {
    let mut t = now.max(0) as u64;
    let mut time = [b'0'; 6];
    for slot in time.iter_mut().rev() {
        *slot = ALPHABET[(t % 62) as usize];
        t /= 62;
    }
    let mut s: String = time.iter().map(|&b| b as char).collect();
    s.push_str(&random_alnum(rng, len.saturating_sub(6)));
    s
}

/// Appends `len` (at least 8) ASCII alphanumerics to `s`: `now_ms` (unix milliseconds) as
/// the time in seconds in six base-62 digits, then the millisecond in two, then random ones.
/// Values made later sort after earlier ones down to the millisecond, so the inserts of one
/// group commit (a few milliseconds) share an index's last page or two.
pub fn push_time_sorted_alnum_ms(s: &mut String, now_ms: i64, rng: &mut impl Rng, len: usize) {
    let (secs, ms) = (now_ms.div_euclid(1000), now_ms.rem_euclid(1000) as usize);
    s.push_str(&time_sorted_alnum(secs, rng, 6));
    s.push(ALPHABET[ms / 62] as char);
    s.push(ALPHABET[ms % 62] as char);
    push_random_alnum(s, rng, len.saturating_sub(8));
}

/// `len` random ASCII alphanumerics.
pub fn random_alnum(rng: &mut impl Rng, len: usize) -> String {
    let mut s = String::with_capacity(len);
    push_random_alnum(&mut s, rng, len);
    s
}

/// Appends `len` random characters of the id alphabet to `s`.
pub fn push_random_alnum(s: &mut String, rng: &mut impl Rng, len: usize) {
    s.extend((0..len).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char));
}

impl<K> Clone for Id<K> {
    fn clone(&self) -> Self {
        Id {
            value: self.value.clone(),
            kind: PhantomData,
        }
    }
}
impl<K> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}
impl<K> Eq for Id<K> {}
impl<K> std::hash::Hash for Id<K> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state)
    }
}
impl<K> fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}
impl<K> fmt::Display for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}
impl<K> serde::Serialize for Id<K> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.value)
    }
}
impl<'de, K: IdKind> serde::Deserialize<'de> for Id<K> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Id::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("invalid {} id", K::NAME)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn generated_ids_parse_and_sort_by_time() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let a = SessionId::generate(1_700_000_000, &mut rng);
        let b = SessionId::generate(1_700_000_001, &mut rng);
        assert!(a.as_str().starts_with("vs_"));
        assert_eq!(a.as_str().len(), 3 + SUFFIX_LEN);
        assert_eq!(SessionId::parse(a.as_str()), Some(a.clone()));
        assert!(a.as_str()[3..9] < b.as_str()[3..9]);
    }

    #[test]
    fn millisecond_ids_parse_and_sort_within_a_second() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let ms = [
            1_700_000_000_000,
            1_700_000_000_001,
            1_700_000_000_999,
            1_700_000_001_000,
        ];
        let ids: Vec<SessionId> = ms
            .iter()
            .map(|&t| SessionId::generate_ms(t, &mut rng))
            .collect();
        for id in &ids {
            assert_eq!(id.as_str().len(), 3 + SUFFIX_LEN);
            assert_eq!(SessionId::parse(id.as_str()), Some(id.clone()));
        }
        for pair in ids.windows(2) {
            assert!(pair[0].as_str()[3..11] < pair[1].as_str()[3..11]);
        }
        // The seconds part is the same as the second-resolution ids'.
        let s = SessionId::generate(1_700_000_000, &mut rng);
        assert_eq!(ids[0].as_str()[..9], s.as_str()[..9]);
    }

    #[test]
    fn parse_rejects_wrong_prefix_length_and_charset() {
        assert!(SessionId::parse("vr_000000000000000000000000").is_none());
        assert!(SessionId::parse("vs_00000000000000000000000").is_none());
        assert!(SessionId::parse("vs_00000000000000000000000-").is_none());
        assert!(SessionId::parse("vs_").is_none());
        assert!(SessionId::parse("").is_none());
        assert!(SessionId::parse("vs_000000000000000000000000").is_some());
        assert!(ReportId::parse("vr_000000000000000000000000").is_some());
    }
}
