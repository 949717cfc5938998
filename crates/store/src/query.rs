//! SQL shared by the backends, written with `?` placeholders (PostgreSQL numbers them).

use vouch_domain::session::WireEnum;

use crate::SessionFilter;

/// A bound value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
}

/// Where a page starts: the cursor's (created, seq) and the direction.
pub(crate) struct Position {
    pub created: i64,
    pub seq: i64,
    pub ascending: bool,
}

/// The SQL of one list page; every combination is served by an index (see the tests).
pub(crate) fn list_query(
    account: &str,
    filter: &SessionFilter,
    position: Option<&Position>,
    limit: usize,
) -> (String, Vec<Arg>) {
    let mut sql = String::from("SELECT data FROM sessions WHERE account = ?");
    let mut args: Vec<Arg> = vec![Arg::Text(account.to_owned())];
    let text_filters = [
        ("status", filter.status.map(|s| s.as_str().to_owned())),
        ("client_reference_id", filter.client_reference_id.clone()),
        ("related_customer", filter.related_customer.clone()),
        (
            "related_customer_account",
            filter.related_customer_account.clone(),
        ),
    ];
    for (col, value) in text_filters {
        if let Some(v) = value {
            sql.push_str(&format!(" AND {col} = ?"));
            args.push(Arg::Text(v));
        }
    }
    let range = filter.created;
    for (op, v) in [
        (">", range.gt),
        (">=", range.gte),
        ("<", range.lt),
        ("<=", range.lte),
    ] {
        if let Some(v) = v {
            sql.push_str(&format!(" AND created {op} ?"));
            args.push(Arg::Int(v));
        }
    }
    let ascending = position.is_some_and(|p| p.ascending);
    if let Some(p) = position {
        let op = if p.ascending { ">" } else { "<" };
        sql.push_str(&format!(" AND (created, seq) {op} (?, ?)"));
        args.push(Arg::Int(p.created));
        args.push(Arg::Int(p.seq));
    }
    sql.push_str(if ascending {
        " ORDER BY created ASC, seq ASC LIMIT ?"
    } else {
        " ORDER BY created DESC, seq DESC LIMIT ?"
    });
    args.push(Arg::Int(limit as i64 + 1));
    (sql, args)
}

/// `?` placeholders as `$1`, `$2`, … for PostgreSQL.
pub(crate) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}
