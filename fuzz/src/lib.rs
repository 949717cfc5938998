//! What the fuzz targets run, shared so a crash can be replayed from a plain test too.

use axum::response::IntoResponse;
use vouch_api::error::ApiError;
use vouch_api::expand;
use vouch_api::form::{self, FormMap, FormValue, MAX_DEPTH, MAX_KEY_LEN, MAX_PAIRS};
use vouch_api::params::{Field, Params};

/// Renders the error as the server would answer it; it must be a 4xx.
pub fn render(err: ApiError) {
    let resp = err.into_response();
    assert!(
        resp.status().is_client_error(),
        "bad input answered {}",
        resp.status()
    );
}

fn leaves(map: &FormMap, depth: usize, out: &mut usize) {
    assert!(depth <= MAX_DEPTH, "decoded deeper than MAX_DEPTH");
    for (k, v) in &map.entries {
        assert!(k.len() <= MAX_KEY_LEN);
        match v {
            FormValue::Str(_) => *out += 1,
            FormValue::Map(m) => leaves(m, depth + 1, out),
        }
    }
}

const DOCUMENT_TYPES: &[(&str, u8)] = &[("driving_license", 0), ("id_card", 1), ("passport", 2)];
const TYPES: &[(&str, u8)] = &[("document", 0), ("id_number", 1)];

/// The takes of a session create (every shape the readers have), then `finish`.
fn create_takes(p: &mut Params) -> Result<(), ApiError> {
    expand::session(p, false)?;
    p.take_enum("type", TYPES)?;
    p.take_str("client_reference_id", 5000)?;
    p.take_string_map("metadata")?;
    if let Some(Field::Value(mut options)) = p.take_obj("options")? {
        if let Some(Field::Value(mut d)) = options.take_obj("document")? {
            d.take_enum_list("allowed_types", DOCUMENT_TYPES, 3)?;
            d.take_bool("require_id_number")?;
            d.take_bool("require_live_capture")?;
            d.take_bool("require_matching_selfie")?;
            d.finish_nested()?;
        }
        options.finish_nested()?;
    }
    if let Some(Field::Value(mut d)) = p.take_obj("provided_details")? {
        d.take_str("email", 5000)?;
        d.take_str("phone", 5000)?;
        d.finish_nested()?;
    }
    p.take_raw("related_person");
    Ok(())
}

/// The takes of a list, then `finish`.
fn list_takes(p: &mut Params) -> Result<(), ApiError> {
    expand::report(p, true)?;
    p.take_i64("limit")?;
    p.take_int_or_range("created")?;
    p.take_str_list("types", 5000, 20)?;
    p.take_bool("delivery_success")?;
    p.take_str("starting_after", 5000)?;
    Ok(())
}

/// Decodes `query` then `body` into one tree as the server does, checks its limits, and reads
/// it twice (as a create and as a list). Returns the tree when it decoded.
pub fn exercise_form(query: &[u8], body: &[u8]) -> Option<FormMap> {
    let mut map = FormMap::new();
    let decoded = form::parse_into(&mut map, query).and_then(|()| form::parse_into(&mut map, body));
    if let Err(e) = decoded {
        let _ = e.to_string();
        render(e.into());
        return None;
    }
    let mut count = 0;
    leaves(&map, 0, &mut count);
    assert!(count <= MAX_PAIRS, "{count} pairs decoded");
    for takes in [create_takes, list_takes] {
        let mut p = Params::new(map.clone());
        match takes(&mut p).and_then(|()| p.finish().map_err(ApiError::from)) {
            Ok(()) => {}
            Err(e) => render(e),
        }
    }
    Some(map)
}

fn encode(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

fn flatten(map: &FormMap, prefix: &str, out: &mut Vec<String>) -> bool {
    for (k, v) in &map.entries {
        if k.is_empty() {
            return false; // `a[]` elements do not round-trip one by one
        }
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}[{k}]")
        };
        match v {
            FormValue::Str(s) => {
                let mut pair = String::new();
                encode(&key, &mut pair);
                pair.push('=');
                encode(s, &mut pair);
                out.push(pair);
            }
            FormValue::Map(m) => {
                if m.is_empty() || !flatten(m, &key, out) {
                    return false;
                }
            }
        }
    }
    true
}

/// Re-encodes a decoded tree and decodes it again: the same tree.
pub fn roundtrip(map: &FormMap) {
    let mut pairs = Vec::new();
    if !flatten(map, "", &mut pairs) {
        return;
    }
    let again = form::parse(pairs.join("&").as_bytes())
        .unwrap_or_else(|e| panic!("re-encoded tree does not decode: {e}"));
    assert_eq!(&again, map, "re-encoded tree decodes differently");
}

/// Arbitrary bytes as an `expand` parameter: the first byte picks the shape (list or not, and
/// how it is sent), the rest, split at `\0`, are the paths.
pub fn exercise_expand(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let paths: Vec<String> = rest
        .split(|b| *b == 0)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    let value = match flags & 0b11 {
        // expand[0]=a&expand[1]=b
        0 => FormValue::Map(FormMap {
            entries: paths
                .iter()
                .enumerate()
                .map(|(i, p)| (i.to_string(), FormValue::Str(p.clone())))
                .collect(),
        }),
        // expand[]=a&expand[]=b
        1 => FormValue::Map(FormMap {
            entries: paths
                .iter()
                .map(|p| (String::new(), FormValue::Str(p.clone())))
                .collect(),
        }),
        // expand=a (not a list)
        2 => FormValue::Str(paths.concat()),
        // expand[a]=b (a hash)
        _ => FormValue::Map(FormMap {
            entries: paths
                .chunks(2)
                .map(|c| (c[0].clone(), FormValue::Str(c.get(1).cloned().unwrap_or_default())))
                .collect(),
        }),
    };
    let is_list = flags & 0b100 != 0;
    let root = FormMap {
        entries: vec![("expand".to_owned(), value)],
    };
    let mut p = Params::new(root.clone());
    match expand::session(&mut p, is_list) {
        Ok(e) => {
            p.finish().expect("expand taken");
            // Everything asked for is a known path: at most four levels, `data.` on lists.
            for path in &paths {
                if flags & 0b11 < 2 {
                    assert!(path.split('.').count() <= 4, "{path}");
                    assert!(!is_list || path.starts_with("data."), "{path}");
                }
            }
            let _ = e;
        }
        Err(e) => render(e),
    }
    let mut p = Params::new(root);
    match expand::report(&mut p, is_list) {
        Ok(_) => p.finish().expect("expand taken"),
        Err(e) => render(e),
    }
}
