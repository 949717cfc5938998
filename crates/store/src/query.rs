//! SQL shared by the backends, written with `?` placeholders (PostgreSQL numbers them).

use vouch_domain::session::WireEnum;

use crate::{CreatedRange, ReportFilter, SessionFilter};

/// Sessions per status of one account (served by `sessions_by_status`).
pub(crate) const SESSION_COUNTS: &str =
    "SELECT status, COUNT(*) FROM sessions WHERE account = ? GROUP BY status";

/// Reads `session_counts` rows; a status vouch does not know is skipped.
pub(crate) fn session_counts(
    rows: Vec<(String, i64)>,
) -> Vec<(vouch_domain::session::Status, u64)> {
    rows.into_iter()
        .filter_map(|(status, n)| {
            vouch_domain::session::Status::from_wire(&status).map(|s| (s, n.max(0) as u64))
        })
        .collect()
}

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

/// One list request: the table, equality filters on indexed columns, and `created` bounds.
pub(crate) struct ListSpec {
    pub table: &'static str,
    pub equals: Vec<(&'static str, String)>,
    pub created: CreatedRange,
}

impl SessionFilter {
    pub(crate) fn spec(&self) -> ListSpec {
        let equals = [
            ("status", self.status.map(|s| s.as_str().to_owned())),
            ("client_reference_id", self.client_reference_id.clone()),
            ("related_customer", self.related_customer.clone()),
            (
                "related_customer_account",
                self.related_customer_account.clone(),
            ),
        ];
        ListSpec {
            table: "sessions",
            equals: equals
                .into_iter()
                .filter_map(|(c, v)| v.map(|v| (c, v)))
                .collect(),
            created: self.created,
        }
    }
}

impl SessionFilter {
    /// Whether `s` is one the filter selects (as the list query would, `created` aside: it
    /// never changes).
    pub(crate) fn matches(&self, s: &vouch_domain::session::Session) -> bool {
        fn same(want: &Option<String>, have: &Option<String>) -> bool {
            want.is_none() || want == have
        }
        self.status.is_none_or(|status| s.status == status)
            && same(&self.client_reference_id, &s.client_reference_id)
            && same(&self.related_customer, &s.related_customer)
            && same(&self.related_customer_account, &s.related_customer_account)
    }
}

impl ReportFilter {
    pub(crate) fn spec(&self) -> ListSpec {
        let equals = [
            ("client_reference_id", self.client_reference_id.clone()),
            ("type", self.kind.map(|k| k.as_str().to_owned())),
            ("session_id", self.verification_session.clone()),
        ];
        ListSpec {
            table: "reports",
            equals: equals
                .into_iter()
                .filter_map(|(c, v)| v.map(|v| (c, v)))
                .collect(),
            created: self.created,
        }
    }
}

/// A cursor as (object id, ascending): `ending_before` pages are read oldest first.
pub(crate) fn cursor_parts<K: vouch_domain::ids::IdKind>(
    cursor: &crate::Cursor<vouch_domain::ids::Id<K>>,
) -> (String, bool) {
    match cursor {
        crate::Cursor::After(id) => (id.as_str().to_owned(), false),
        crate::Cursor::Before(id) => (id.as_str().to_owned(), true),
    }
}

/// Finds a cursor object's position in `table`.
pub(crate) fn position_query(table: &str) -> String {
    format!("SELECT created, seq FROM {table} WHERE id = ? AND account = ?")
}

/// The SQL of one list page (the given columns of each row), newest first (or oldest first from an `ending_before` cursor,
/// which the caller reverses); every shape is served by an index (see the sqlite tests).
pub(crate) fn list_query(
    spec: &ListSpec,
    columns: &str,
    account: &str,
    position: Option<&Position>,
    limit: usize,
) -> (String, Vec<Arg>) {
    // Pushed piece by piece (no `format!`): lists build their statement on every request.
    let mut sql = String::with_capacity(200);
    for piece in [
        "SELECT ",
        columns,
        " FROM ",
        spec.table,
        " WHERE account = ?",
    ] {
        sql.push_str(piece);
    }
    let mut args: Vec<Arg> = Vec::with_capacity(spec.equals.len() + 4);
    args.push(Arg::Text(account.to_owned()));
    for (col, value) in &spec.equals {
        for piece in [" AND ", col, " = ?"] {
            sql.push_str(piece);
        }
        args.push(Arg::Text(value.clone()));
    }
    let range = spec.created;
    for (op, v) in [
        (">", range.gt),
        (">=", range.gte),
        ("<", range.lt),
        ("<=", range.lte),
    ] {
        if let Some(v) = v {
            for piece in [" AND created ", op, " ?"] {
                sql.push_str(piece);
            }
            args.push(Arg::Int(v));
        }
    }
    let ascending = position.is_some_and(|p| p.ascending);
    if let Some(p) = position {
        let op = if p.ascending { ">" } else { "<" };
        for piece in [" AND (created, seq) ", op, " (?, ?)"] {
            sql.push_str(piece);
        }
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
