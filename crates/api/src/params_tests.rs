#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::form::parse;

fn params(input: &str) -> Params {
    Params::new(parse(input.as_bytes()).unwrap())
}

fn val<T: std::fmt::Debug>(r: Result<Option<Field<T>>, ParamError>) -> T {
    match r {
        Ok(Some(Field::Value(v))) => v,
        other => panic!("expected a value, got {other:?}"),
    }
}

fn is_empty_field<T: std::fmt::Debug>(r: Result<Option<Field<T>>, ParamError>) -> bool {
    matches!(r, Ok(Some(Field::Empty)))
}

fn err<T: std::fmt::Debug>(r: Result<Option<Field<T>>, ParamError>) -> ParamError {
    match r {
        Err(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn unknown(param: &str) -> ParamError {
    ParamError::UnknownParam {
        param: param.to_string(),
    }
}

fn invalid_type(param: &str, expected: &'static str) -> ParamError {
    ParamError::InvalidType {
        param: param.to_string(),
        expected,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Document,
    IdNumber,
}

const KINDS: &[(&str, Kind)] = &[("document", Kind::Document), ("id_number", Kind::IdNumber)];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DocType {
    DrivingLicense,
    IdCard,
    Passport,
}

const DOC_TYPES: &[(&str, DocType)] = &[
    ("driving_license", DocType::DrivingLicense),
    ("id_card", DocType::IdCard),
    ("passport", DocType::Passport),
];

#[test]
fn python_create_body_end_to_end() {
    let body = "type=document&metadata[order_id]=42&metadata[note]=hi&options[document][allowed_types][0]=driving_license&options[document][allowed_types][1]=passport&options[document][require_matching_selfie]=true&client_reference_id=user_1&return_url=https%3A%2F%2Fexample.com%2Freturn&related_customer=cus_123&provided_details[email]=a%40example.com";
    let mut p = params(body);
    assert_eq!(val(p.take_enum("type", KINDS)), Kind::Document);
    assert_eq!(
        val(p.take_string_map("metadata")),
        vec![
            ("order_id".to_string(), "42".to_string()),
            ("note".to_string(), "hi".to_string())
        ]
    );
    let mut options = val(p.take_obj("options"));
    assert_eq!(options.prefix(), "options");
    let mut document = val(options.take_obj("document"));
    assert_eq!(document.prefix(), "options[document]");
    assert_eq!(
        val(document.take_enum_list("allowed_types", DOC_TYPES, 3)),
        vec![DocType::DrivingLicense, DocType::Passport]
    );
    assert!(val(document.take_bool("require_matching_selfie")));
    assert!(document.is_empty());
    document.finish_nested().unwrap();
    options.finish_nested().unwrap();
    assert_eq!(val(p.take_str("client_reference_id", 5000)), "user_1");
    assert_eq!(
        val(p.take_str("return_url", 5000)),
        "https://example.com/return"
    );
    assert_eq!(val(p.take_str("related_customer", 5000)), "cus_123");
    let mut provided = val(p.take_obj("provided_details"));
    assert_eq!(val(provided.take_str("email", 800)), "a@example.com");
    provided.finish_nested().unwrap();
    assert!(p.is_empty());
    p.finish().unwrap();
}

#[test]
fn missing_params_are_none() {
    let mut p = params("");
    assert_eq!(p.take_str("a", 10), Ok(None));
    assert_eq!(p.take_enum("a", KINDS), Ok(None));
    assert_eq!(p.take_bool("a"), Ok(None));
    assert_eq!(p.take_i64("a"), Ok(None));
    assert!(p.take_obj("a").unwrap().is_none());
    assert_eq!(p.take_str_list("a", 10, 10), Ok(None));
    assert_eq!(p.take_enum_list("a", KINDS, 10), Ok(None));
    assert_eq!(p.take_string_map("a"), Ok(None));
    assert_eq!(p.take_int_or_range("a"), Ok(None));
    assert!(p.is_empty());
    p.finish().unwrap();
}

#[test]
fn empty_string_is_field_empty_everywhere() {
    let mut p = params("s=&e=&b=&i=&o=&sl=&el=&m=&r=");
    assert!(is_empty_field(p.take_str("s", 10)));
    assert!(is_empty_field(p.take_enum("e", KINDS)));
    assert!(is_empty_field(p.take_bool("b")));
    assert!(is_empty_field(p.take_i64("i")));
    assert!(is_empty_field(p.take_obj("o")));
    assert!(is_empty_field(p.take_str_list("sl", 10, 10)));
    assert!(is_empty_field(p.take_enum_list("el", KINDS, 10)));
    assert!(is_empty_field(p.take_string_map("m")));
    assert!(is_empty_field(p.take_int_or_range("r")));
    p.finish().unwrap();
}

#[test]
fn wire_unset_all_metadata_and_emptyable_options() {
    let mut p = params("metadata=&options[document]=");
    assert!(is_empty_field(p.take_string_map("metadata")));
    let mut options = val(p.take_obj("options"));
    assert!(is_empty_field(options.take_obj("document")));
    options.finish_nested().unwrap();
    p.finish().unwrap();
}

#[test]
fn wire_unset_one_metadata_key() {
    let mut p = params("metadata[note]=");
    assert_eq!(
        val(p.take_string_map("metadata")),
        vec![("note".to_string(), String::new())]
    );
    p.finish().unwrap();

    let mut p =
        params("metadata[order_id]=43&metadata[note]=&options[document][require_id_number]=true");
    assert_eq!(
        val(p.take_string_map("metadata")),
        vec![
            ("order_id".to_string(), "43".to_string()),
            ("note".to_string(), String::new())
        ]
    );
    let mut options = val(p.take_obj("options"));
    let mut document = val(options.take_obj("document"));
    assert!(val(document.take_bool("require_id_number")));
    document.finish().unwrap();
    options.finish().unwrap();
    p.finish().unwrap();
}

#[test]
fn wire_python_expand_query() {
    let mut p = params("expand%5B0%5D=last_verification_report&expand%5B1%5D=verified_outputs");
    assert_eq!(
        val(p.take_str_list("expand", 5000, 20)),
        vec!["last_verification_report", "verified_outputs"]
    );
    p.finish().unwrap();
}

#[test]
fn wire_python_created_range_query() {
    let mut p = params(
        "created%5Bgte%5D=1695680000&created%5Blt%5D=1695690000&status=requires_input&limit=3",
    );
    assert_eq!(
        val(p.take_int_or_range("created")),
        IntRange {
            gte: Some(1_695_680_000),
            lt: Some(1_695_690_000),
            ..IntRange::default()
        }
    );
    assert_eq!(val(p.take_str("status", 100)), "requires_input");
    assert_eq!(val(p.take_i64("limit")), 3);
    p.finish().unwrap();
}

#[test]
fn take_removes_so_finish_sees_leftovers_only() {
    let mut p = params("a=1&foo=2&b=3");
    val(p.take_str("a", 10));
    val(p.take_str("b", 10));
    assert!(!p.is_empty());
    assert_eq!(p.finish(), Err(unknown("foo")));
}

#[test]
fn taking_twice_gives_none() {
    let mut p = params("a=1");
    assert_eq!(val(p.take_str("a", 10)), "1");
    assert_eq!(p.take_str("a", 10), Ok(None));
}

#[test]
fn finish_names_first_leftover() {
    assert_eq!(params("x=1&y=2").finish(), Err(unknown("x")));
    // An unknown hash is named by itself...
    assert_eq!(params("foo[bar]=1").finish(), Err(unknown("foo")));
    // ...an unknown list by its first item.
    assert_eq!(
        params("expand[0]=a&expand[1]=b").finish(),
        Err(unknown("expand[0]"))
    );
    assert_eq!(params("expand[3]=a").finish(), Err(unknown("expand[3]")));
    assert_eq!(params("expand[]=a").finish(), Err(unknown("expand[0]")));
}

#[test]
fn unknown_nested_param_named_as_sent() {
    let mut p = params("options[document][foo]=1&options[document][require_id_number]=false");
    let mut options = val(p.take_obj("options"));
    let mut document = val(options.take_obj("document"));
    assert!(!val(document.take_bool("require_id_number")));
    assert_eq!(
        document.finish_nested(),
        Err(unknown("options[document][foo]"))
    );
    options.finish_nested().unwrap();
    p.finish().unwrap();

    let mut p = params("options[bogus][x]=1");
    let options = val(p.take_obj("options"));
    assert_eq!(options.finish(), Err(unknown("options[bogus]")));

    // Keys sent percent-encoded are named decoded.
    let mut p = params("options%5Bdocument%5D%5Bfoo%5D=1");
    let mut options = val(p.take_obj("options"));
    let document = val(options.take_obj("document"));
    assert_eq!(document.finish(), Err(unknown("options[document][foo]")));
}

#[test]
fn path_of_children() {
    let mut p = params("options[document][allowed_types][0]=passport");
    assert_eq!(p.path("options"), "options");
    let mut options = val(p.take_obj("options"));
    assert_eq!(options.path("document"), "options[document]");
    let document = val(options.take_obj("document"));
    assert_eq!(
        document.path("allowed_types"),
        "options[document][allowed_types]"
    );
}

#[test]
fn take_str_rules() {
    let mut p = params("a=hello&b=%C3%A9%C3%A9%C3%A9&c[x]=1&d=toolong");
    assert_eq!(val(p.take_str("a", 5)), "hello");
    // Characters, not bytes: 3 chars, 6 bytes.
    assert_eq!(val(p.take_str("b", 3)), "ééé");
    assert_eq!(err(p.take_str("c", 5)), invalid_type("c", "string"));
    assert_eq!(
        err(p.take_str("d", 3)),
        ParamError::TooLong {
            param: "d".to_string(),
            value: "toolong".to_string(),
            max: 3
        }
    );
    p.finish().unwrap();
}

#[test]
fn take_enum_rules() {
    let mut p = params("a=id_number&b=selfie&c[x]=document");
    assert_eq!(val(p.take_enum("a", KINDS)), Kind::IdNumber);
    assert_eq!(
        err(p.take_enum("b", KINDS)),
        ParamError::InvalidEnum {
            param: "b".to_string(),
            value: "selfie".to_string(),
            allowed: vec!["document", "id_number"]
        }
    );
    assert_eq!(err(p.take_enum("c", KINDS)), invalid_type("c", "string"));
}

#[test]
fn take_bool_rules() {
    let mut p = params("t=true&f=false&u=True&one=1&m[x]=true");
    assert!(val(p.take_bool("t")));
    assert!(!val(p.take_bool("f")));
    assert_eq!(
        err(p.take_bool("u")),
        ParamError::InvalidBoolean {
            param: "u".to_string(),
            value: "True".to_string()
        }
    );
    assert_eq!(
        err(p.take_bool("one")),
        ParamError::InvalidBoolean {
            param: "one".to_string(),
            value: "1".to_string()
        }
    );
    assert_eq!(err(p.take_bool("m")), invalid_type("m", "string"));
}

#[test]
fn take_i64_rules() {
    let mut p = params(
        "a=42&b=-5&c=%2B5&d=1.0&e=+1&f=-&g=9223372036854775807&h=-9223372036854775808&i=9223372036854775808&j=0x10&k=007&l=%E2%91%A0&m[x]=1",
    );
    assert_eq!(val(p.take_i64("a")), 42);
    assert_eq!(val(p.take_i64("b")), -5);
    for (name, value) in [
        ("c", "+5"),
        ("d", "1.0"),
        ("e", " 1"),
        ("f", "-"),
        ("i", "9223372036854775808"),
        ("j", "0x10"),
        ("l", "①"),
    ] {
        assert_eq!(
            err(p.take_i64(name)),
            ParamError::InvalidInteger {
                param: name.to_string(),
                value: value.to_string()
            },
            "{name}"
        );
    }
    assert_eq!(val(p.take_i64("g")), i64::MAX);
    assert_eq!(val(p.take_i64("h")), i64::MIN);
    assert_eq!(val(p.take_i64("k")), 7);
    assert_eq!(err(p.take_i64("m")), invalid_type("m", "string"));
    p.finish().unwrap();
}

#[test]
fn take_obj_rules() {
    let mut p = params("o=x&n[a]=1");
    assert_eq!(err(p.take_obj("o")), invalid_type("o", "hash"));
    let mut n = val(p.take_obj("n"));
    assert_eq!(val(n.take_i64("a")), 1);
    n.finish().unwrap();
}

#[test]
fn deep_nested_errors_name_full_path() {
    let mut p = params("a[b][c][d]=x");
    let mut a = val(p.take_obj("a"));
    let mut b = val(a.take_obj("b"));
    let mut c = val(b.take_obj("c"));
    assert_eq!(
        err(c.take_bool("d")),
        ParamError::InvalidBoolean {
            param: "a[b][c][d]".to_string(),
            value: "x".to_string()
        }
    );
}

#[test]
fn list_forms() {
    let mut p = params("a[0]=x&a[1]=y&b[]=x&b[]=y&b[]=x&c[2]=two&c[0]=zero&c[7]=seven");
    assert_eq!(val(p.take_str_list("a", 10, 10)), vec!["x", "y"]);
    assert_eq!(val(p.take_str_list("b", 10, 10)), vec!["x", "y", "x"]);
    // gaps are fine, order is by index
    assert_eq!(
        val(p.take_str_list("c", 10, 10)),
        vec!["zero", "two", "seven"]
    );
    p.finish().unwrap();
}

#[test]
fn list_sorted_numerically() {
    let body: Vec<String> = (0..12).rev().map(|i| format!("a[{i}]=v{i}")).collect();
    let mut p = params(&body.join("&"));
    let expected: Vec<String> = (0..12).map(|i| format!("v{i}")).collect();
    assert_eq!(val(p.take_str_list("a", 10, 20)), expected);
    let mut p = params("a[10]=ten&a[9]=nine&a[100000000000000000000000]=huge&a[02]=two");
    assert_eq!(
        val(p.take_str_list("a", 10, 20)),
        vec!["two", "nine", "ten", "huge"]
    );
}

#[test]
fn list_mixed_forms() {
    // `[]` items take the index of their position.
    let mut p = params("a[]=x&a[5]=z&a[]=y");
    assert_eq!(val(p.take_str_list("a", 10, 10)), vec!["x", "y", "z"]);
}

#[test]
fn list_with_non_numeric_key_is_not_an_array() {
    let mut p = params("a[0]=x&a[foo]=y");
    assert_eq!(
        err(p.take_str_list("a", 10, 10)),
        invalid_type("a", "array")
    );
    let mut p = params("options[document][allowed_types][x]=passport");
    let mut options = val(p.take_obj("options"));
    let mut document = val(options.take_obj("document"));
    assert_eq!(
        err(document.take_enum_list("allowed_types", DOC_TYPES, 3)),
        invalid_type("options[document][allowed_types]", "array")
    );
    let mut p = params("a[-1]=x");
    assert_eq!(
        err(p.take_str_list("a", 10, 10)),
        invalid_type("a", "array")
    );
}

#[test]
fn list_sent_as_string_is_not_an_array() {
    let mut p = params("expand=verified_outputs");
    assert_eq!(
        err(p.take_str_list("expand", 100, 10)),
        invalid_type("expand", "array")
    );
    let mut p = params("types=x");
    assert_eq!(
        err(p.take_enum_list("types", KINDS, 10)),
        invalid_type("types", "array")
    );
}

#[test]
fn list_item_that_is_a_map() {
    let mut p = params("a[0][b]=1");
    assert_eq!(
        err(p.take_str_list("a", 10, 10)),
        invalid_type("a[0]", "string")
    );
    let mut p = params("a[0]=ok&a[3][b]=1");
    assert_eq!(
        err(p.take_str_list("a", 10, 10)),
        invalid_type("a[3]", "string")
    );
    let mut p = params("a[]=document&a[][b]=1");
    assert_eq!(
        err(p.take_enum_list("a", KINDS, 10)),
        invalid_type("a[1]", "string")
    );
}

#[test]
fn list_bad_item_named_as_sent() {
    let mut p = params(
        "options[document][allowed_types][0]=passport&options[document][allowed_types][1]=selfie",
    );
    let mut options = val(p.take_obj("options"));
    let mut document = val(options.take_obj("document"));
    assert_eq!(
        err(document.take_enum_list("allowed_types", DOC_TYPES, 3)),
        ParamError::InvalidEnum {
            param: "options[document][allowed_types][1]".to_string(),
            value: "selfie".to_string(),
            allowed: vec!["driving_license", "id_card", "passport"]
        }
    );
    // The client's own index, not the position.
    let mut p = params("a[4]=passport&a[9]=nope");
    assert_eq!(err(p.take_enum_list("a", DOC_TYPES, 3)).param(), "a[9]");
    // `[]` form: the position.
    let mut p = params("a[]=passport&a[]=nope");
    assert_eq!(err(p.take_enum_list("a", DOC_TYPES, 3)).param(), "a[1]");
    // Too-long item.
    let mut p = params("expand[]=ok&expand[]=waytoolong");
    assert_eq!(
        err(p.take_str_list("expand", 5, 10)),
        ParamError::TooLong {
            param: "expand[1]".to_string(),
            value: "waytoolong".to_string(),
            max: 5
        }
    );
}

#[test]
fn list_empty_item_kept_in_str_list() {
    let mut p = params("a[0]=&a[1]=x");
    assert_eq!(val(p.take_str_list("a", 10, 10)), vec!["", "x"]);
    let mut p = params("a[0]=");
    assert_eq!(
        err(p.take_enum_list("a", KINDS, 10)),
        ParamError::InvalidEnum {
            param: "a[0]".to_string(),
            value: String::new(),
            allowed: vec!["document", "id_number"]
        }
    );
}

#[test]
fn list_too_many_items() {
    let mut p = params("a[0]=x&a[1]=y&a[2]=z");
    assert_eq!(val(p.take_str_list("a", 10, 3)).len(), 3);
    let mut p = params("a[0]=x&a[1]=y&a[2]=z");
    assert_eq!(
        err(p.take_str_list("a", 10, 2)),
        ParamError::TooMany {
            param: "a".to_string(),
            max: 2
        }
    );
    let mut p = params("t[]=document&t[]=document&t[]=document");
    assert_eq!(
        err(p.take_enum_list("t", KINDS, 2)),
        ParamError::TooMany {
            param: "t".to_string(),
            max: 2
        }
    );
}

#[test]
fn wire_event_types_list() {
    let mut p = params("types%5B0%5D=identity.verification_session.created&types%5B1%5D=identity.verification_session.canceled");
    assert_eq!(
        val(p.take_str_list("types", 100, 100)),
        vec![
            "identity.verification_session.created",
            "identity.verification_session.canceled"
        ]
    );
    p.finish().unwrap();
}

#[test]
fn string_map_rules() {
    let mut p = params("metadata[b]=2&metadata[a]=1&metadata[c]=");
    assert_eq!(
        val(p.take_string_map("metadata")),
        vec![
            ("b".to_string(), "2".to_string()),
            ("a".to_string(), "1".to_string()),
            ("c".to_string(), String::new())
        ]
    );
    let mut p = params("metadata=x");
    assert_eq!(
        err(p.take_string_map("metadata")),
        invalid_type("metadata", "hash")
    );
    let mut p = params("metadata[a][b]=1");
    assert_eq!(
        err(p.take_string_map("metadata")),
        invalid_type("metadata[a]", "string")
    );
    let mut p = params("x[metadata][k][0]=1");
    let mut x = val(p.take_obj("x"));
    assert_eq!(
        err(x.take_string_map("metadata")),
        invalid_type("x[metadata][k]", "string")
    );
}

#[test]
fn int_or_range_rules() {
    let mut p = params("created=5");
    assert_eq!(
        val(p.take_int_or_range("created")),
        IntRange {
            eq: Some(5),
            ..IntRange::default()
        }
    );
    let mut p = params("created[gt]=1&created[gte]=2&created[lt]=3&created[lte]=-4");
    assert_eq!(
        val(p.take_int_or_range("created")),
        IntRange {
            eq: None,
            gt: Some(1),
            gte: Some(2),
            lt: Some(3),
            lte: Some(-4)
        }
    );
    let mut p = params("created[gt]=1&created[foo]=2");
    assert_eq!(err(p.take_int_or_range("created")), unknown("created[foo]"));
    let mut p = params("created[gt]=abc");
    assert_eq!(
        err(p.take_int_or_range("created")),
        ParamError::InvalidInteger {
            param: "created[gt]".to_string(),
            value: "abc".to_string()
        }
    );
    let mut p = params("created[gt]=");
    assert_eq!(
        err(p.take_int_or_range("created")),
        ParamError::InvalidInteger {
            param: "created[gt]".to_string(),
            value: String::new()
        }
    );
    let mut p = params("created=soon");
    assert_eq!(
        err(p.take_int_or_range("created")),
        ParamError::InvalidInteger {
            param: "created".to_string(),
            value: "soon".to_string()
        }
    );
    let mut p = params("created[gt][x]=1");
    assert_eq!(
        err(p.take_int_or_range("created")),
        invalid_type("created[gt]", "string")
    );
    let mut p = params("created[0]=1");
    assert_eq!(err(p.take_int_or_range("created")), unknown("created[0]"));
}

#[test]
fn display_texts() {
    let cases: Vec<(ParamError, &str)> = vec![
        (unknown("foo"), "Received unknown parameter: foo"),
        (
            ParamError::InvalidEnum {
                param: "type".to_string(),
                value: "x".to_string(),
                allowed: vec!["a", "b", "c"],
            },
            "Invalid type: must be one of a, b, or c",
        ),
        (
            ParamError::InvalidEnum {
                param: "type".to_string(),
                value: "x".to_string(),
                allowed: vec!["document", "id_number"],
            },
            "Invalid type: must be one of document or id_number",
        ),
        (
            ParamError::InvalidEnum {
                param: "t".to_string(),
                value: "x".to_string(),
                allowed: vec!["a"],
            },
            "Invalid t: must be one of a",
        ),
        (
            ParamError::InvalidInteger {
                param: "limit".to_string(),
                value: "x".to_string(),
            },
            "Invalid integer: x",
        ),
        (
            ParamError::InvalidBoolean {
                param: "b".to_string(),
                value: "yes".to_string(),
            },
            "Invalid boolean: yes",
        ),
        (
            ParamError::TooLong {
                param: "s".to_string(),
                value: "abcdef".to_string(),
                max: 3,
            },
            "Invalid string: abcdef...; must be at most 3 characters",
        ),
        (invalid_type("a", "hash"), "Invalid hash"),
        (invalid_type("a", "array"), "Invalid array"),
        (invalid_type("a", "string"), "Invalid string"),
        (
            ParamError::TooMany {
                param: "expand".to_string(),
                max: 2,
            },
            "Invalid array: expand can have at most 2 items",
        ),
    ];
    for (e, text) in cases {
        assert_eq!(e.to_string(), text);
    }
    let long = ParamError::TooLong {
        param: "s".to_string(),
        value: "é".repeat(80),
        max: 10,
    };
    assert_eq!(
        long.to_string(),
        format!(
            "Invalid string: {}...; must be at most 10 characters",
            "é".repeat(50)
        )
    );
}

#[test]
fn param_accessor() {
    assert_eq!(unknown("a[b]").param(), "a[b]");
    assert_eq!(invalid_type("x", "hash").param(), "x");
    assert_eq!(
        ParamError::TooMany {
            param: "e".to_string(),
            max: 1
        }
        .param(),
        "e"
    );
}

#[test]
fn field_helpers() {
    let f: Field<i64> = Field::Value(3);
    assert!(!f.is_empty());
    assert_eq!(f.as_value(), Some(&3));
    assert_eq!(f.clone().map(|v| v * 2), Field::Value(6));
    assert_eq!(f.value(), Some(3));
    let e: Field<i64> = Field::Empty;
    assert!(e.is_empty());
    assert_eq!(e.clone().map(|v| v * 2), Field::Empty);
    assert_eq!(e.value(), None);
}

#[test]
fn take_raw_returns_tree() {
    let mut p = params("x[y]=1");
    assert!(matches!(p.take_raw("x"), Some(FormValue::Map(_))));
    p.finish().unwrap();
}

#[test]
fn never_panics_on_random_input() {
    let inputs = crate::form::tests::random_inputs(0xD1B5_4A32_D192_ED03, 3000);
    for input in inputs {
        let Ok(map) = parse(&input) else { continue };
        let mut p = Params::new(map);
        let _ = p.take_str("a", 3);
        let _ = p.take_enum("b", KINDS);
        let _ = p.take_bool("c");
        let _ = p.take_i64("0");
        let _ = p.take_str_list("a", 2, 2);
        let _ = p.take_enum_list("b", KINDS, 2);
        let _ = p.take_string_map("c");
        let _ = p.take_int_or_range("a");
        if let Ok(Some(Field::Value(mut o))) = p.take_obj("abc") {
            let _ = o.take_str_list("", 1, 1);
            let _ = o.finish();
        }
        if let Some(e) = p.clone().finish().err() {
            assert!(!e.to_string().is_empty());
        }
        let _ = p.finish();
    }
}
