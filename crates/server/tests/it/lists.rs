//! GET /v1/identity/verification_sessions.

use serde_json::{json, Value};

use crate::helpers::{expected_session_keys, ids, keys, TestApp, SESSIONS};

/// Create `n` sessions as fast as possible; returns ids in creation order.
async fn create_n(app: &TestApp, n: usize, body: &str) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(
            app.create_ok(body).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    out
}

fn rev(v: &[String]) -> Vec<String> {
    v.iter().rev().cloned().collect()
}

#[tokio::test]
async fn empty_list_envelope() {
    let app = TestApp::spawn().await;
    let l = app.list_sessions("").await.ok();
    assert_eq!(
        keys(&l),
        ["object", "data", "has_more", "url"],
        "list key order: {l}"
    );
    assert_eq!(
        l,
        json!({"object": "list", "data": [], "has_more": false, "url": SESSIONS})
    );
}

#[tokio::test]
async fn list_items_are_full_sessions() {
    let app = TestApp::spawn().await;
    let s = app
        .create_ok("type=document&metadata[a]=b&provided_details[email]=a%40b.co")
        .await;
    let l = app.list_sessions("").await.ok();
    assert_eq!(l["url"], SESSIONS);
    assert_eq!(l["has_more"], json!(false));
    let item = &l["data"][0];
    assert_eq!(
        keys(item),
        expected_session_keys(false, false, false, false)
    );
    assert_eq!(item["id"], s["id"]);
    assert_eq!(item["metadata"], json!({"a": "b"}));
    assert!(item.get("verified_outputs").is_none());
    assert!(item.get("provided_details").is_none());
}

#[tokio::test]
async fn same_second_sessions_come_back_in_exact_reverse_order() {
    let app = TestApp::spawn().await;
    let created = create_n(&app, 8, "type=document").await;
    let l = app.list_sessions("limit=100").await.ok();
    assert_eq!(
        ids(&l),
        rev(&created),
        "newest first, ties in reverse creation order"
    );
    assert_eq!(l["has_more"], json!(false));

    // Paging one by one forwards gives the same total order.
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("limit=1&starting_after={c}"),
            None => "limit=1".to_string(),
        };
        let page = app.list_sessions(&q).await.ok();
        let page_ids = ids(&page);
        assert_eq!(page_ids.len(), 1, "{q}: {page}");
        walked.push(page_ids[0].clone());
        if page["has_more"] == json!(false) {
            break;
        }
        assert!(walked.len() < 20, "paging does not terminate: {walked:?}");
        cursor = Some(page_ids[0].clone());
    }
    assert_eq!(walked, rev(&created));

    // Paging backwards with ending_before from the oldest, pages stay newest-first.
    let mut back = Vec::new();
    let mut cursor = created[0].clone();
    loop {
        let q = format!("limit=3&ending_before={cursor}");
        let page = app.list_sessions(&q).await.ok();
        let page_ids = ids(&page);
        assert!(!page_ids.is_empty(), "{q}: {page}");
        // each page is newest-first: prepend it
        let mut merged = page_ids.clone();
        merged.extend(back);
        back = merged;
        if page["has_more"] == json!(false) {
            break;
        }
        assert!(back.len() < 20, "backward paging does not terminate");
        cursor = page_ids[0].clone();
    }
    assert_eq!(back, rev(&created[1..]));
}

#[tokio::test]
async fn default_limit_is_ten() {
    let app = TestApp::spawn().await;
    let created = create_n(&app, 12, "type=id_number").await;
    let l = app.list_sessions("").await.ok();
    let page = ids(&l);
    assert_eq!(page.len(), 10);
    assert_eq!(l["has_more"], json!(true));
    assert_eq!(page, rev(&created)[..10].to_vec());
    let l2 = app
        .list_sessions(&format!("starting_after={}", page[9]))
        .await
        .ok();
    assert_eq!(ids(&l2), vec![created[1].clone(), created[0].clone()]);
    assert_eq!(l2["has_more"], json!(false));
}

#[tokio::test]
async fn starting_after_and_ending_before_pages() {
    let app = TestApp::spawn().await;
    let s = create_n(&app, 5, "type=document").await; // s[4] newest

    let l = app.list_sessions("limit=2").await.ok();
    assert_eq!(ids(&l), vec![s[4].clone(), s[3].clone()], "limit=2");
    assert_eq!(l["has_more"], json!(true), "limit=2");
    let q = format!("limit=2&starting_after={}", s[3]);
    let l = app.list_sessions(&q).await.ok();
    assert_eq!(ids(&l), vec![s[2].clone(), s[1].clone()], "{q}");
    assert_eq!(l["has_more"], json!(true), "{q}");
    let q = format!("limit=2&starting_after={}", s[1]);
    let l = app.list_sessions(&q).await.ok();
    assert_eq!(ids(&l), vec![s[0].clone()], "{q}");
    assert_eq!(l["has_more"], json!(false), "{q}");
    let q = format!("starting_after={}", s[0]);
    let l = app.list_sessions(&q).await.ok();
    assert_eq!(ids(&l), Vec::<String>::new(), "{q}");
    assert_eq!(l["has_more"], json!(false), "{q}");

    // ending_before: the page just newer than the cursor, still newest-first
    let q = format!("limit=2&ending_before={}", s[0]);
    let l = app.list_sessions(&q).await.ok();
    assert_eq!(ids(&l), vec![s[2].clone(), s[1].clone()], "{q}");
    assert_eq!(l["has_more"], json!(true), "{q}: newer sessions exist");
    let q = format!("limit=2&ending_before={}", s[2]);
    let l = app.list_sessions(&q).await.ok();
    assert_eq!(ids(&l), vec![s[4].clone(), s[3].clone()], "{q}");
    assert_eq!(l["has_more"], json!(false), "{q}");
    let q = format!("ending_before={}", s[4]);
    let l = app.list_sessions(&q).await.ok();
    assert_eq!(ids(&l), Vec::<String>::new(), "{q}");
    assert_eq!(l["has_more"], json!(false), "{q}");
    let q = format!("limit=10&ending_before={}", s[0]);
    let l = app.list_sessions(&q).await.ok();
    assert_eq!(ids(&l), rev(&s[1..]), "{q}");
    assert_eq!(l["has_more"], json!(false), "{q}");
}

#[tokio::test]
async fn unknown_cursors_are_404() {
    let app = TestApp::spawn().await;
    app.create_ok("type=document").await;
    for param in ["starting_after", "ending_before"] {
        let r = app.list_sessions(&format!("{param}=vs_nope")).await;
        r.assert_error(
            404,
            Some("resource_missing"),
            Some(param),
            "No such VerificationSession: 'vs_nope'",
        );
    }
}

#[tokio::test]
async fn limit_validation() {
    let app = TestApp::spawn().await;
    app.list_sessions("limit=abc").await.assert_error(
        400,
        Some("parameter_invalid_integer"),
        Some("limit"),
        "Invalid integer: abc",
    );
    app.list_sessions("limit=0").await.assert_error(
        400,
        None,
        Some("limit"),
        "This value must be greater than or equal to 1.",
    );
    app.list_sessions("limit=-5").await.assert_error(
        400,
        None,
        Some("limit"),
        "This value must be greater than or equal to 1.",
    );
    app.list_sessions("limit=101").await.assert_error(
        400,
        None,
        Some("limit"),
        "This value must be less than or equal to 100.",
    );
    app.list_sessions("limit=1.5").await.assert_error(
        400,
        Some("parameter_invalid_integer"),
        Some("limit"),
        "Invalid integer: 1.5",
    );
    // bounds are inclusive
    app.list_sessions("limit=1").await.assert_status(200);
    app.list_sessions("limit=100").await.assert_status(200);
}

#[tokio::test]
async fn filters_status_reference_customer_account() {
    let app = TestApp::spawn().await;
    let a = app
        .create_ok("type=document&client_reference_id=ref_a&related_customer=cus_a")
        .await;
    let b = app
        .create_ok("type=document&client_reference_id=ref_b&related_customer_account=acct_b")
        .await;
    let c = app
        .create_ok("type=id_number&client_reference_id=ref_a&related_customer=cus_c")
        .await;
    let (a, b, c) = (
        a["id"].as_str().unwrap().to_string(),
        b["id"].as_str().unwrap().to_string(),
        c["id"].as_str().unwrap().to_string(),
    );
    app.cancel(&b).await.assert_status(200);
    let v = app.verified_session("type=document").await;
    let d = v["id"].as_str().unwrap().to_string();

    let cases: Vec<(&str, Vec<&String>)> = vec![
        ("status=canceled", vec![&b]),
        ("status=verified", vec![&d]),
        ("status=requires_input", vec![&c, &a]),
        ("status=processing", vec![]),
        ("client_reference_id=ref_a", vec![&c, &a]),
        ("client_reference_id=ref_b", vec![&b]),
        ("client_reference_id=nope", vec![]),
        ("related_customer=cus_a", vec![&a]),
        ("related_customer=cus_c", vec![&c]),
        ("related_customer_account=acct_b", vec![&b]),
        ("client_reference_id=ref_a&related_customer=cus_c", vec![&c]),
        ("client_reference_id=ref_a&status=canceled", vec![]),
        ("status=requires_input&limit=1", vec![&c]),
    ];
    for (q, want) in cases {
        let l = app.list_sessions(q).await.ok();
        let want: Vec<String> = want.into_iter().cloned().collect();
        assert_eq!(ids(&l), want, "filter {q}");
    }
    let l = app
        .list_sessions("status=requires_input&limit=1")
        .await
        .ok();
    assert_eq!(l["has_more"], json!(true), "has_more respects the filter");
    let l = app
        .list_sessions(&format!("status=requires_input&starting_after={c}"))
        .await
        .ok();
    assert_eq!(ids(&l), vec![a.clone()]);
    assert_eq!(l["has_more"], json!(false));

    let r = app.list_sessions("status=bogus").await;
    r.assert_error_prefix(400, None, Some("status"), "Invalid status: must be one of");
}

#[tokio::test]
async fn created_filters_plain_and_percent_encoded() {
    let app = TestApp::spawn().await;
    let s = create_n(&app, 3, "type=document").await;
    let first = app.retrieve_session(&s[0], "").await.ok();
    let t = first["created"].as_i64().unwrap();
    let all = rev(&s);

    let created_of = |v: &Value| -> Vec<i64> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["created"].as_i64().unwrap())
            .collect()
    };

    for q in [
        "created[gte]=1".to_string(),
        "created%5Bgte%5D=1".to_string(),
        format!("created[lte]={}", t + 1000),
        format!("created%5Blt%5D={}&created%5Bgt%5D=1", t + 1000),
    ] {
        let l = app.list_sessions(&q).await.ok();
        assert_eq!(ids(&l), all, "{q}");
    }
    for q in [
        "created[lt]=1".to_string(),
        "created%5Blt%5D=1".to_string(),
        format!("created[gt]={}", t + 1000),
        format!("created[gte]={}", t + 1000),
        format!("created={}", t + 1000),
    ] {
        let l = app.list_sessions(&q).await.ok();
        assert_eq!(ids(&l), Vec::<String>::new(), "{q}");
    }
    // exact match on created: contains the first session, and only sessions of that second
    let l = app.list_sessions(&format!("created={t}")).await.ok();
    assert!(ids(&l).contains(&s[0]), "created={t}: {l}");
    assert!(created_of(&l).iter().all(|c| *c == t), "created={t}: {l}");
    // gt excludes the boundary, gte includes it
    let l = app.list_sessions(&format!("created[gt]={t}")).await.ok();
    assert!(
        !ids(&l).contains(&s[0]),
        "created[gt]={t} must exclude {}",
        s[0]
    );
    assert!(created_of(&l).iter().all(|c| *c > t));
    let l = app.list_sessions(&format!("created[lte]={t}")).await.ok();
    assert!(ids(&l).contains(&s[0]));
    assert!(created_of(&l).iter().all(|c| *c <= t));

    let r = app.list_sessions("created[gte]=abc").await;
    r.assert_error_envelope(400);
    assert_eq!(r.err()["param"], "created[gte]", "{}", r.text);
}

#[tokio::test]
async fn list_expand_needs_data_prefix() {
    let app = TestApp::spawn().await;
    let v = app
        .verified_session("type=document&provided_details[email]=p%40q.co")
        .await;

    let l = app
        .list_sessions("expand[]=data.verified_outputs")
        .await
        .ok();
    let item = &l["data"][0];
    assert_eq!(keys(item), expected_session_keys(false, false, false, true));
    assert!(item["verified_outputs"].is_object(), "{item}");
    assert!(
        item["verified_outputs"].get("dob").is_none(),
        "dob needs its own expand: {item}"
    );

    // python-style encoded brackets, several expands
    let l = app
        .list_sessions("expand%5B0%5D=data.verified_outputs&expand%5B1%5D=data.provided_details&expand%5B2%5D=data.last_verification_report")
        .await
        .ok();
    let item = &l["data"][0];
    assert_eq!(keys(item), expected_session_keys(true, false, false, true));
    assert_eq!(item["provided_details"], json!({"email": "p@q.co"}));
    assert_eq!(
        item["last_verification_report"]["object"],
        "identity.verification_report"
    );
    assert_eq!(
        item["last_verification_report"]["id"],
        v["last_verification_report"]
    );

    let l = app
        .list_sessions("expand[]=data.verified_outputs.dob")
        .await
        .ok();
    let dob = &l["data"][0]["verified_outputs"]["dob"];
    assert!(dob["year"].is_i64(), "dob: {dob}");

    app.list_sessions("expand[]=verified_outputs").await.assert_error(
        400,
        None,
        Some("expand"),
        "This property cannot be expanded (verified_outputs). You may want to try expanding 'data.verified_outputs' instead.",
    );
    app.list_sessions("expand%5B0%5D=last_verification_report").await.assert_error(
        400,
        None,
        Some("expand"),
        "This property cannot be expanded (last_verification_report). You may want to try expanding 'data.last_verification_report' instead.",
    );
    let r = app.list_sessions("expand[]=data.foo").await;
    r.assert_error_prefix(
        400,
        None,
        Some("expand"),
        "This property cannot be expanded (",
    );
}

#[tokio::test]
async fn unknown_list_parameter() {
    let app = TestApp::spawn().await;
    app.list_sessions("foo=bar").await.assert_error(
        400,
        Some("parameter_unknown"),
        Some("foo"),
        "Received unknown parameter: foo",
    );
    app.list_sessions("type=document").await.assert_error(
        400,
        Some("parameter_unknown"),
        Some("type"),
        "Received unknown parameter: type",
    );
}

#[tokio::test]
async fn cursor_outside_the_filter_still_positions_the_page() {
    let app = TestApp::spawn().await;
    let mut s = Vec::new();
    for i in 0..6 {
        let v = app
            .create_ok(&format!("type=document&client_reference_id=grp{}", i % 2))
            .await;
        s.push(v["id"].as_str().unwrap().to_string());
    }
    // grp0 = s[0], s[2], s[4]; grp1 = s[1], s[3], s[5]
    let l = app
        .list_sessions(&format!(
            "client_reference_id=grp0&starting_after={}&limit=2",
            s[5]
        ))
        .await
        .ok();
    assert_eq!(ids(&l), vec![s[4].clone(), s[2].clone()]);
    assert_eq!(l["has_more"], json!(true));
    let l = app
        .list_sessions(&format!(
            "client_reference_id=grp0&ending_before={}&limit=5",
            s[1]
        ))
        .await
        .ok();
    assert_eq!(ids(&l), vec![s[4].clone(), s[2].clone()]);
    assert_eq!(l["has_more"], json!(false));
    let l = app
        .list_sessions(&format!(
            "client_reference_id=grp0&ending_before={}&limit=1",
            s[0]
        ))
        .await
        .ok();
    assert_eq!(ids(&l), vec![s[2].clone()]);
    assert_eq!(l["has_more"], json!(true));
}
