#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

fn s(v: &str) -> FormValue {
    FormValue::Str(v.to_string())
}

fn m(entries: Vec<(&str, FormValue)>) -> FormValue {
    FormValue::Map(map(entries))
}

fn map(entries: Vec<(&str, FormValue)>) -> FormMap {
    FormMap {
        entries: entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    }
}

fn p(input: &str) -> FormMap {
    parse(input.as_bytes()).unwrap()
}

fn malformed_err(input: &[u8]) -> String {
    match parse(input) {
        Err(FormError::Malformed(msg)) => msg,
        other => panic!("expected Malformed for {input:?}, got {other:?}"),
    }
}

fn conflict(input: &str) -> String {
    match parse(input.as_bytes()) {
        Err(FormError::Conflict { param }) => param,
        other => panic!("expected Conflict for {input:?}, got {other:?}"),
    }
}

#[test]
fn empty_input() {
    assert_eq!(p(""), FormMap::new());
    assert_eq!(p("&&&"), FormMap::new());
}

#[test]
fn simple_pairs_in_order() {
    assert_eq!(
        p("b=2&a=1&c=3"),
        map(vec![("b", s("2")), ("a", s("1")), ("c", s("3"))])
    );
}

#[test]
fn skips_empty_pieces() {
    assert_eq!(p("&a=1&&b=2&"), map(vec![("a", s("1")), ("b", s("2"))]));
}

#[test]
fn piece_without_equals_is_empty_value() {
    assert_eq!(p("a&b=1"), map(vec![("a", s("")), ("b", s("1"))]));
}

#[test]
fn splits_on_first_equals_only() {
    assert_eq!(p("a=b=c"), map(vec![("a", s("b=c"))]));
}

#[test]
fn plus_is_space_in_keys_and_values() {
    assert_eq!(p("a+b=c+d"), map(vec![("a b", s("c d"))]));
    // An encoded plus stays a plus.
    assert_eq!(p("a=1%2B1"), map(vec![("a", s("1+1"))]));
}

#[test]
fn percent_decoding() {
    assert_eq!(
        p("return_url=https%3A%2F%2Fexample.com%2Freturn&e=a%40example.com&u=%C3%A9%e2%82%ac"),
        map(vec![
            ("return_url", s("https://example.com/return")),
            ("e", s("a@example.com")),
            ("u", s("é€")),
        ])
    );
}

#[test]
fn raw_utf8_passes_through() {
    assert_eq!(p("name=Zoë"), map(vec![("name", s("Zoë"))]));
}

#[test]
fn bad_percent_escapes() {
    for input in ["a=%", "a=%4", "a=%zz", "a=%4g", "a%=1", "a%5=1", "a=1%"] {
        let msg = malformed_err(input.as_bytes());
        assert!(msg.contains("percent"), "{input}: {msg}");
    }
}

#[test]
fn invalid_utf8() {
    for input in [
        &b"a=%ff"[..],
        b"a=%C3",
        b"%ff=1",
        b"a=\xff",
        b"\xc3=1",
        b"a[%80]=1",
    ] {
        let msg = malformed_err(input);
        assert!(msg.contains("UTF-8"), "{input:?}: {msg}");
    }
}

#[test]
fn nested_maps() {
    assert_eq!(
        p("a[b][c]=x&a[b][d]=y&a[e]=z"),
        map(vec![(
            "a",
            m(vec![
                ("b", m(vec![("c", s("x")), ("d", s("y"))])),
                ("e", s("z"))
            ])
        )])
    );
}

#[test]
fn indexed_lists_are_maps_with_numeric_keys() {
    assert_eq!(
        p("a[0]=x&a[1]=y"),
        map(vec![("a", m(vec![("0", s("x")), ("1", s("y"))]))])
    );
}

#[test]
fn numeric_segments_merge() {
    assert_eq!(
        p("a[0][x]=1&a[0][y]=2&a[1][x]=3"),
        map(vec![(
            "a",
            m(vec![
                ("0", m(vec![("x", s("1")), ("y", s("2"))])),
                ("1", m(vec![("x", s("3"))])),
            ])
        )])
    );
}

#[test]
fn empty_brackets_append() {
    assert_eq!(
        p("a[]=x&a[]=y&a[]=x"),
        map(vec![(
            "a",
            m(vec![("", s("x")), ("", s("y")), ("", s("x"))])
        )])
    );
}

#[test]
fn empty_brackets_with_subkey_append_new_map() {
    assert_eq!(
        p("a[][b]=1&a[][b]=2&a[][c]=3"),
        map(vec![(
            "a",
            m(vec![
                ("", m(vec![("b", s("1"))])),
                ("", m(vec![("b", s("2"))])),
                ("", m(vec![("c", s("3"))])),
            ])
        )])
    );
}

#[test]
fn empty_brackets_deeper() {
    assert_eq!(
        p("a[x][]=1&a[x][]=2"),
        map(vec![(
            "a",
            m(vec![("x", m(vec![("", s("1")), ("", s("2"))]))])
        )])
    );
}

#[test]
fn repeated_scalar_last_wins_first_position_kept() {
    assert_eq!(
        p("type=a&x=1&type=b"),
        map(vec![("type", s("b")), ("x", s("1"))])
    );
    assert_eq!(p("a[b]=1&a[b]=2"), map(vec![("a", m(vec![("b", s("2"))]))]));
}

#[test]
fn conflicts() {
    assert_eq!(conflict("a=1&a[b]=2"), "a");
    assert_eq!(conflict("a[b]=2&a=1"), "a");
    assert_eq!(conflict("a=&a[b]=2"), "a");
    assert_eq!(conflict("a[b]=2&a="), "a");
    assert_eq!(
        conflict("options[document]=&options[document][require_id_number]=true"),
        "options[document]"
    );
    assert_eq!(
        conflict("options[document][x]=1&options[document]="),
        "options[document]"
    );
    assert_eq!(conflict("a[0]=x&a[0][b]=y"), "a[0]");
    assert_eq!(conflict("a[x][y]=1&a[x]=2"), "a[x]");
    // Every `[]` starts a fresh element, so this is no conflict.
    assert!(parse(b"a[][b]=1&a[][b][c]=2").is_ok());
    // Spelled after decoding.
    assert_eq!(conflict("a%5Bb%5D=1&a[b][c]=2"), "a[b]");
}

#[test]
fn conflict_error_text() {
    let err = parse(b"a=1&a[b]=2").unwrap_err();
    assert_eq!(err.to_string(), "Invalid hash");
    assert_eq!(err.param(), Some("a"));
}

#[test]
fn malformed_error_text() {
    let err = parse(b"a=%zz").unwrap_err();
    assert_eq!(err.param(), None);
    assert!(err.to_string().starts_with("Invalid request body: "));
}

#[test]
fn empty_value_alone_is_a_string() {
    assert_eq!(p("metadata="), map(vec![("metadata", s(""))]));
}

#[test]
fn wire_unset_bodies() {
    assert_eq!(
        p("metadata=&options[document]="),
        map(vec![
            ("metadata", s("")),
            ("options", m(vec![("document", s(""))])),
        ])
    );
    assert_eq!(
        p("metadata[note]="),
        map(vec![("metadata", m(vec![("note", s(""))]))])
    );
}

#[test]
fn wire_python_create_body() {
    let body = "type=document&metadata[order_id]=42&metadata[note]=hi&options[document][allowed_types][0]=driving_license&options[document][allowed_types][1]=passport&options[document][require_matching_selfie]=true&client_reference_id=user_1&return_url=https%3A%2F%2Fexample.com%2Freturn&related_customer=cus_123&provided_details[email]=a%40example.com";
    assert_eq!(
        p(body),
        map(vec![
            ("type", s("document")),
            (
                "metadata",
                m(vec![("order_id", s("42")), ("note", s("hi"))])
            ),
            (
                "options",
                m(vec![(
                    "document",
                    m(vec![
                        (
                            "allowed_types",
                            m(vec![("0", s("driving_license")), ("1", s("passport"))])
                        ),
                        ("require_matching_selfie", s("true")),
                    ])
                )])
            ),
            ("client_reference_id", s("user_1")),
            ("return_url", s("https://example.com/return")),
            ("related_customer", s("cus_123")),
            ("provided_details", m(vec![("email", s("a@example.com"))])),
        ])
    );
}

#[test]
fn wire_python_percent_encoded_brackets() {
    let expected = map(vec![(
        "expand",
        m(vec![
            ("0", s("last_verification_report")),
            ("1", s("verified_outputs")),
        ]),
    )]);
    assert_eq!(
        p("expand%5B0%5D=last_verification_report&expand%5B1%5D=verified_outputs"),
        expected
    );
    // node sends literal brackets; same tree.
    assert_eq!(
        p("expand[0]=last_verification_report&expand[1]=verified_outputs"),
        expected
    );
    assert_eq!(
        p("created%5Bgte%5D=1695680000&created%5Blt%5D=1695690000&limit=3"),
        map(vec![
            (
                "created",
                m(vec![("gte", s("1695680000")), ("lt", s("1695690000"))])
            ),
            ("limit", s("3")),
        ])
    );
    // lower-case escapes too
    assert_eq!(p("a%5bb%5d=1"), map(vec![("a", m(vec![("b", s("1"))]))]));
}

#[test]
fn wire_webhook_endpoint_body() {
    assert_eq!(
        p("url=http%3A%2F%2F127.0.0.1%3A9%2Fhook&enabled_events[0]=identity.verification_session.created&enabled_events[1]=identity.verification_session.canceled"),
        map(vec![
            ("url", s("http://127.0.0.1:9/hook")),
            (
                "enabled_events",
                m(vec![
                    ("0", s("identity.verification_session.created")),
                    ("1", s("identity.verification_session.canceled")),
                ])
            ),
        ])
    );
}

#[test]
fn parse_into_merges_query_then_body() {
    let mut tree = parse(b"expand[0]=a&limit=1").unwrap();
    parse_into(&mut tree, b"expand[1]=b&limit=2&x=y").unwrap();
    assert_eq!(
        tree,
        map(vec![
            ("expand", m(vec![("0", s("a")), ("1", s("b"))])),
            ("limit", s("2")),
            ("x", s("y")),
        ])
    );
    let mut tree = parse(b"a=1").unwrap();
    assert_eq!(
        parse_into(&mut tree, b"a[b]=1"),
        Err(FormError::Conflict {
            param: "a".to_string()
        })
    );
}

#[test]
fn malformed_keys() {
    for key in [
        "[a]", "[]", "=1x", "a[b", "a]", "a]b", "a[b]c", "a[b]]", "a[[b]]", "a[b[c]]", "a[b]x[c]",
        "a[b][", "a%5Bb", "%5Ba%5D",
    ] {
        let input = format!("{key}=1");
        let msg = malformed_err(input.as_bytes());
        assert!(msg.contains("parameter name"), "{key}: {msg}");
    }
}

#[test]
fn malformed_key_message_is_truncated() {
    let key = format!("a]{}", "x".repeat(200));
    let msg = malformed_err(format!("{key}=1").as_bytes());
    assert!(msg.len() < 120, "{msg}");
}

#[test]
fn depth_limit() {
    let ok = format!("a{}=1", "[x]".repeat(MAX_DEPTH));
    assert!(parse(ok.as_bytes()).is_ok());
    let too_deep = format!("a{}=1", "[x]".repeat(MAX_DEPTH + 1));
    assert!(malformed_err(too_deep.as_bytes()).contains("deeper"));
    let too_deep = format!("a{}=1", "[]".repeat(MAX_DEPTH + 1));
    assert!(malformed_err(too_deep.as_bytes()).contains("deeper"));
}

#[test]
fn key_length_limit() {
    let ok = "k".repeat(MAX_KEY_LEN);
    assert!(parse(format!("{ok}=1").as_bytes()).is_ok());
    let long = "k".repeat(MAX_KEY_LEN + 1);
    assert!(malformed_err(format!("{long}=1").as_bytes()).contains("longer"));
    // Measured after decoding: 200 escaped chars are 200 bytes.
    let encoded = "%6B".repeat(200);
    assert!(parse(format!("{encoded}=1").as_bytes()).is_ok());
    let huge = "%6B".repeat(MAX_KEY_LEN + 1);
    assert!(malformed_err(format!("{huge}=1").as_bytes()).contains("longer"));
    let enormous = "k".repeat(100_000);
    assert!(malformed_err(enormous.as_bytes()).contains("longer"));
    // Values have no such limit.
    let value = "v".repeat(10_000);
    assert_eq!(p(&format!("a={value}")), map(vec![("a", s(&value))]));
}

#[test]
fn pair_limit() {
    let ok: Vec<String> = (0..MAX_PAIRS).map(|i| format!("k{i}=v")).collect();
    assert_eq!(p(&ok.join("&")).len(), MAX_PAIRS);
    let too_many: Vec<String> = (0..=MAX_PAIRS).map(|i| format!("k{i}=v")).collect();
    assert_eq!(
        parse(too_many.join("&").as_bytes()),
        Err(FormError::Malformed("too many parameters".to_string()))
    );
    // Repeats count too (they are pairs on the wire).
    let repeats = "a=1&".repeat(MAX_PAIRS + 1);
    assert!(malformed_err(repeats.as_bytes()).contains("too many"));
}

#[test]
fn pair_limit_counts_query_and_body_together() {
    let half: Vec<String> = (0..600).map(|i| format!("q{i}=v")).collect();
    let mut tree = parse(half.join("&").as_bytes()).unwrap();
    let other: Vec<String> = (0..600).map(|i| format!("b[{i}]=v")).collect();
    assert_eq!(
        parse_into(&mut tree, other.join("&").as_bytes()),
        Err(FormError::Malformed("too many parameters".to_string()))
    );
}

#[test]
fn map_helpers() {
    let mut tree = p("a=1&b[c]=2&d=3");
    assert_eq!(tree.get("a").and_then(FormValue::as_str), Some("1"));
    assert!(tree.get("b").and_then(FormValue::as_map).is_some());
    assert_eq!(tree.remove("b"), Some(m(vec![("c", s("2"))])));
    assert_eq!(tree.remove("b"), None);
    assert_eq!(tree, map(vec![("a", s("1")), ("d", s("3"))]));
    assert!(!tree.is_empty());
}

/// xorshift64*, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Pseudo-random inputs biased towards the interesting bytes.
pub(crate) fn random_inputs(seed: u64, count: usize) -> Vec<Vec<u8>> {
    const ALPHABET: &[u8] = b"[]=&%+abc01259fF";
    let mut rng = Rng(seed);
    (0..count)
        .map(|_| {
            let len = (rng.next() % 64) as usize;
            (0..len)
                .map(|_| {
                    let r = rng.next();
                    if r & 7 == 0 {
                        (r >> 8) as u8
                    } else {
                        ALPHABET[((r >> 8) % ALPHABET.len() as u64) as usize]
                    }
                })
                .collect()
        })
        .collect()
}

#[test]
fn never_panics_on_random_input() {
    let mut ok = 0;
    for input in random_inputs(0x9E37_79B9_7F4A_7C15, 5000) {
        if parse(&input).is_ok() {
            ok += 1;
        }
        let mut tree = FormMap::new();
        let _ = parse_into(&mut tree, &input);
        let _ = parse_into(&mut tree, &input);
    }
    // The generator must exercise the success path as well.
    assert!(ok > 100, "only {ok} inputs parsed");
}
