//! Decoding of `application/x-www-form-urlencoded` request bodies and query
//! strings into a tree, following the bracket conventions the official Stripe
//! SDKs (and curl users) put on the wire:
//!
//! * `a[b][c]=x` builds nested maps,
//! * `a[0]=x&a[1]=y` builds a map with the keys `"0"` and `"1"` (lists are
//!   maps with numeric keys; [`crate::params`] turns them into vectors),
//! * `a[]=x&a[]=y` appends one element per `[]`, each with the key `""`.
//!
//! Keys are percent-decoded *before* brackets are parsed, because python's
//! `requests` sends `expand%5B0%5D=x` in query strings.
//!
//! Hostile-input limits: at most [`MAX_PAIRS`] pairs in total (query and body
//! together when merged with [`parse_into`]), keys of at most [`MAX_KEY_LEN`]
//! bytes (decoded), and at most [`MAX_DEPTH`] bracket segments per key.

use std::fmt;

/// Maximum number of `key=value` pairs accepted in total.
pub const MAX_PAIRS: usize = 1000;
/// Maximum length of one decoded key, in bytes (`a[b][c]` counts 7).
pub const MAX_KEY_LEN: usize = 500;
/// Maximum number of bracket segments in one key (`a[b][c]` has 2).
pub const MAX_DEPTH: usize = 8;

/// One node of the decoded tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormValue {
    /// A leaf value (possibly empty: `key=`).
    Str(String),
    /// A nested map, from `key[sub]=...`.
    Map(FormMap),
}

impl FormValue {
    /// The string, if this is a leaf.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            FormValue::Str(s) => Some(s),
            FormValue::Map(_) => None,
        }
    }

    /// The map, if this is a nested map.
    pub fn as_map(&self) -> Option<&FormMap> {
        match self {
            FormValue::Str(_) => None,
            FormValue::Map(m) => Some(m),
        }
    }

    fn leaf_count(&self) -> usize {
        match self {
            FormValue::Str(_) => 1,
            FormValue::Map(m) => m.leaf_count(),
        }
    }
}

/// An ordered map of decoded parameters.
///
/// Insertion order is kept. Keys are unique except `""`, which may repeat
/// (one entry per `a[]=` element).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormMap {
    pub entries: Vec<(String, FormValue)>,
}

impl FormMap {
    /// An empty map.
    pub fn new() -> FormMap {
        FormMap::default()
    }

    /// Number of entries at this level.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if there are no entries at this level.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first entry with this key.
    pub fn get(&self, key: &str) -> Option<&FormValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Removes and returns the first entry with this key, keeping the order
    /// of the remaining entries.
    pub fn remove(&mut self, key: &str) -> Option<FormValue> {
        let idx = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(idx).1)
    }

    /// Number of leaf values in the whole tree.
    fn leaf_count(&self) -> usize {
        self.entries.iter().map(|(_, v)| v.leaf_count()).sum()
    }
}

/// Why a body or query string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    /// Not valid form encoding (bad escape, bad UTF-8, bad key syntax,
    /// limits exceeded). The text describes the problem.
    Malformed(String),
    /// The same key was used both as a string and as a hash
    /// (`a=1&a[b]=2`). `param` is the path as the client spelled it, up to
    /// the conflicting key (`a`, `options[document]`).
    Conflict { param: String },
}

impl FormError {
    /// The parameter involved, for the error's `param` field.
    pub fn param(&self) -> Option<&str> {
        match self {
            FormError::Malformed(_) => None,
            FormError::Conflict { param } => Some(param),
        }
    }
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormError::Malformed(m) => write!(f, "Invalid request body: {m}"),
            FormError::Conflict { .. } => f.write_str("Invalid hash"),
        }
    }
}

impl std::error::Error for FormError {}

/// Decodes one query string or body.
pub fn parse(input: &[u8]) -> Result<FormMap, FormError> {
    let mut map = FormMap::new();
    parse_into(&mut map, input)?;
    Ok(map)
}

/// Decodes `input` and merges it into `map` (call it with the query string
/// first, then the body). The pair limit applies to the merged total.
///
/// On error the contents of `map` are unspecified; the request is meant to
/// be rejected.
pub fn parse_into(map: &mut FormMap, input: &[u8]) -> Result<(), FormError> {
    let pieces = || input.split(|b| *b == b'&').filter(|p| !p.is_empty());
    if map.leaf_count().saturating_add(pieces().count()) > MAX_PAIRS {
        return Err(malformed("too many parameters"));
    }
    for piece in pieces() {
        let (raw_key, raw_value) = match piece.iter().position(|b| *b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, &piece[piece.len()..]),
        };
        // A decoded byte needs at most three encoded ones: reject early
        // without decoding a huge key.
        if raw_key.len() > MAX_KEY_LEN.saturating_mul(3) {
            return Err(key_too_long());
        }
        let key = decode(raw_key)?;
        if key.len() > MAX_KEY_LEN {
            return Err(key_too_long());
        }
        let path = split_key(&key)?;
        let value = decode(raw_value)?;
        insert(map, &path, value)?;
    }
    Ok(())
}

fn malformed(msg: &str) -> FormError {
    FormError::Malformed(msg.to_string())
}

fn key_too_long() -> FormError {
    FormError::Malformed(format!(
        "parameter name longer than {MAX_KEY_LEN} characters"
    ))
}

/// Short, char-boundary-safe excerpt of client text for error messages.
fn excerpt(s: &str) -> String {
    const MAX: usize = 50;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push_str("...");
        out
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `+` → space, `%XX` → byte, then UTF-8 validation.
fn decode(raw: &[u8]) -> Result<String, FormError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut iter = raw.iter().copied();
    while let Some(b) = iter.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = iter.next().and_then(hex_val);
                let lo = iter.next().and_then(hex_val);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => return Err(malformed("invalid percent-encoding")),
                }
            }
            _ => out.push(b),
        }
    }
    String::from_utf8(out).map_err(|_| malformed("invalid UTF-8 after percent-decoding"))
}

/// Splits `name[seg1][seg2]` into `["name", "seg1", "seg2"]`.
fn split_key(key: &str) -> Result<Vec<&str>, FormError> {
    let bad = || FormError::Malformed(format!("invalid parameter name: {}", excerpt(key)));
    let is_bracket = |c: char| c == '[' || c == ']';
    let name_end = key.find(is_bracket).unwrap_or(key.len());
    let name = &key[..name_end];
    if name.is_empty() {
        return Err(bad());
    }
    let mut parts = vec![name];
    let mut rest = &key[name_end..];
    while let Some(inner) = rest.strip_prefix('[') {
        let close = inner.find(is_bracket).ok_or_else(bad)?;
        if !inner[close..].starts_with(']') {
            return Err(bad());
        }
        parts.push(&inner[..close]);
        if parts.len() - 1 > MAX_DEPTH {
            return Err(FormError::Malformed(format!(
                "parameter nested deeper than {MAX_DEPTH} levels"
            )));
        }
        rest = &inner[close + 1..];
    }
    if !rest.is_empty() {
        // `]` in the name, or text after a `]` that is not `[`.
        return Err(bad());
    }
    Ok(parts)
}

/// The path up to and including `path[upto]` as the client spelled it (`a[b][c]`), for a
/// conflict's `param`. Built only then: most requests never need it.
fn spelled(path: &[&str], upto: usize) -> String {
    let mut out = String::new();
    for (i, part) in path.iter().take(upto + 1).enumerate() {
        if i == 0 {
            out.push_str(part);
        } else {
            out.push('[');
            out.push_str(part);
            out.push(']');
        }
    }
    out
}

/// Inserts `value` at `path` (non-empty), creating maps on the way.
fn insert(map: &mut FormMap, path: &[&str], value: String) -> Result<(), FormError> {
    let Some((last, parents)) = path.split_last() else {
        return Err(malformed("empty parameter name"));
    };
    let mut cur = map;
    for (i, part) in parents.iter().enumerate() {
        let existing = if part.is_empty() {
            None // every `[]` appends a new element
        } else {
            cur.entries.iter().position(|(k, _)| k == part)
        };
        let idx = match existing {
            Some(idx) => idx,
            None => {
                cur.entries
                    .push(((*part).to_string(), FormValue::Map(FormMap::new())));
                cur.entries.len() - 1
            }
        };
        cur = match cur.entries.get_mut(idx) {
            Some((_, FormValue::Map(m))) => m,
            _ => {
                return Err(FormError::Conflict {
                    param: spelled(path, i),
                })
            }
        };
    }
    if last.is_empty() {
        cur.entries.push((String::new(), FormValue::Str(value)));
        return Ok(());
    }
    match cur.entries.iter_mut().find(|(k, _)| k == last) {
        // A repeated scalar: last value wins, first position kept.
        Some((_, FormValue::Str(s))) => *s = value,
        Some((_, FormValue::Map(_))) => {
            return Err(FormError::Conflict {
                param: spelled(path, parents.len()),
            })
        }
        None => cur
            .entries
            .push(((*last).to_string(), FormValue::Str(value))),
    }
    Ok(())
}

#[cfg(test)]
#[path = "form_tests.rs"]
pub(crate) mod tests;
