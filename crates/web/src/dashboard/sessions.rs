//! The sessions list (status filter with counts, search, cursor pagination) and a session's
//! page (state, `last_error`, link, outputs, reports, events, actions).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use vouch_domain::ids::SessionId;
use vouch_domain::report::{CheckStatus, Report};
use vouch_domain::session::{ErrorCode, LastError, Session, Status, WireEnum};
use vouch_store::{Cursor, EventFilter, FileView, Page, ReportFilter, SessionFilter, StoreError};

use super::auth::{me, Me};
use super::view::{self, or_dash, redacted, row, status_tag, time_tag};
use super::{Dash, DashError, DashPage, Section};
use crate::form::Fields;
use crate::html::{fill, Html};

const LIST: &str = include_str!("../../templates/dashboard/sessions.html");
const DETAIL: &str = include_str!("../../templates/dashboard/session.html");

/// Sessions per list page.
const PAGE_SIZE: usize = 25;
/// Image views shown on a session's page (the most recent).
const VIEWS_SHOWN: usize = 50;
/// Longest search accepted.
const MAX_QUERY: usize = 200;

pub(crate) fn query(uri: &Uri) -> Fields {
    Fields::parse(uri.query().unwrap_or("").as_bytes())
}

/// Which field a search looks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SearchBy {
    Id,
    ClientReferenceId,
    Customer,
}

impl SearchBy {
    fn param(self) -> &'static str {
        match self {
            SearchBy::Id => "id",
            SearchBy::ClientReferenceId => "client_reference_id",
            SearchBy::Customer => "related_customer",
        }
    }

    fn parse(s: &str) -> Option<SearchBy> {
        [
            SearchBy::Id,
            SearchBy::ClientReferenceId,
            SearchBy::Customer,
        ]
        .into_iter()
        .find(|b| b.param() == s)
    }
}

fn filter_for(status: Option<Status>, q: &str, by: SearchBy) -> SessionFilter {
    let mut filter = SessionFilter {
        status,
        ..SessionFilter::default()
    };
    match by {
        _ if q.is_empty() => {}
        SearchBy::ClientReferenceId => filter.client_reference_id = Some(q.to_owned()),
        SearchBy::Customer => filter.related_customer = Some(q.to_owned()),
        SearchBy::Id => {}
    }
    filter
}

pub(crate) async fn list(
    State(dash): State<Dash>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<DashPage, DashError> {
    let me = me(&dash, &headers).await?;
    let account = me.account.id.clone();
    let store = &dash.app.store;
    let f = query(&uri);
    let status = f.non_empty("status").and_then(Status::from_wire);
    let q: String = f
        .non_empty("q")
        .unwrap_or("")
        .chars()
        .take(MAX_QUERY)
        .collect();
    let cursor = match (f.non_empty("starting_after"), f.non_empty("ending_before")) {
        (Some(a), _) => SessionId::parse(a).map(Cursor::After),
        (None, Some(b)) => SessionId::parse(b).map(Cursor::Before),
        (None, None) => None,
    };
    let explicit = f.non_empty("by").and_then(SearchBy::parse);
    let mut by = explicit.unwrap_or(if q.starts_with("vs_") {
        SearchBy::Id
    } else if q.starts_with("cus_") {
        SearchBy::Customer
    } else {
        SearchBy::ClientReferenceId
    });
    let (items, has_more) = if q.is_empty() {
        page(
            &dash,
            &account,
            &filter_for(status, "", by),
            cursor.as_ref(),
        )
        .await?
    } else if by == SearchBy::Id {
        let found = match SessionId::parse(&q) {
            Some(id) => store.get_session(&account, &id).await?,
            None => None,
        };
        let found = found.filter(|s| status.is_none_or(|st| s.status == st));
        (found.into_iter().collect(), false)
    } else {
        let mut result = page(
            &dash,
            &account,
            &filter_for(status, &q, by),
            cursor.as_ref(),
        )
        .await?;
        // Not a client_reference_id? Perhaps a customer.
        if result.0.is_empty() && explicit.is_none() && cursor.is_none() {
            by = SearchBy::Customer;
            result = page(&dash, &account, &filter_for(status, &q, by), None).await?;
        }
        result
    };

    let counts = store.session_counts(&account).await?;
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    let mut tabs = Html::trusted("<ul class=\"tabs\">");
    let mut tab = |label: &str, value: Option<Status>, n: u64| {
        let mut params = Fields::default();
        if let Some(s) = value {
            params.set("status", s.as_str());
        }
        if !q.is_empty() {
            params.set("q", &q);
        }
        let current = if value == status {
            " aria-current=\"page\""
        } else {
            ""
        };
        let id = value.map_or("all", |s| s.as_str());
        tabs.push(Html::trusted(format!(
            "<li><a id=\"tab-{id}\" href=\"/dashboard/sessions?{}\"{current}>{} <span class=\"count\">{n}</span></a></li>",
            Html::text(&params.encode()).as_str(),
            Html::text(label).as_str(),
        )));
    };
    tab("All", None, total);
    for (_, s) in Status::ALL {
        let n = counts.iter().find(|(c, _)| c == s).map_or(0, |(_, n)| *n);
        tab(view::status_label(*s), Some(*s), n);
    }
    tabs.push(Html::trusted("</ul>"));

    let mut rows = Html::default();
    for s in &items {
        rows.push(list_row(s));
    }
    if items.is_empty() {
        rows = Html::trusted("<tr><td colspan=\"6\" class=\"muted\">No sessions match.</td></tr>");
    }
    let pager = pager(&q, by, status, &items, has_more, cursor.as_ref());
    let searched = if q.is_empty() {
        Html::default()
    } else {
        Html::trusted(format!(
            "<p class=\"muted\" id=\"search-summary\">Sessions whose {} is “{}”. <a href=\"/dashboard/sessions\">Clear</a></p>",
            by.param(),
            Html::text(&q).as_str()
        ))
    };
    let status_field = match status {
        Some(s) => Html::trusted(format!(
            "<input type=\"hidden\" name=\"status\" value=\"{}\">",
            s.as_str()
        )),
        None => Html::default(),
    };
    let body = fill(
        LIST,
        &[
            ("q", &Html::text(&q)),
            ("status_field", &status_field),
            ("tabs", &tabs),
            ("searched", &searched),
            ("rows", &rows),
            ("pager", &pager),
        ],
    );
    Ok(DashPage::new(&me, Section::Sessions, "Sessions", body))
}

async fn page(
    dash: &Dash,
    account: &str,
    filter: &SessionFilter,
    cursor: Option<&Cursor<SessionId>>,
) -> Result<(Vec<Session>, bool), DashError> {
    match dash
        .app
        .store
        .list_sessions(account, filter, cursor, PAGE_SIZE)
        .await
    {
        Ok(p) => Ok((p.items, p.has_more)),
        Err(StoreError::NotFound) => Err(DashError::BadRequest(
            "That page of results no longer exists; start again from the first page.".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

fn list_row(s: &Session) -> Html {
    let hidden = s.is_redacted();
    let text = |v: Option<&str>| if hidden { redacted() } else { or_dash(v) };
    Html::trusted(format!(
        "<tr><td><a href=\"/dashboard/sessions/{id}\"><code>{id}</code></a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        status_tag(s.status).as_str(),
        Html::text(s.kind.as_str()).as_str(),
        text(s.client_reference_id.as_deref()).as_str(),
        text(s.related_customer.as_deref()).as_str(),
        time_tag(s.created).as_str(),
        id = Html::text(s.id.as_str()).as_str(),
    ))
}

/// Newer/older links that keep the filters.
fn pager(
    q: &str,
    by: SearchBy,
    status: Option<Status>,
    items: &[Session],
    has_more: bool,
    cursor: Option<&Cursor<SessionId>>,
) -> Html {
    let base = |key: &str, id: &SessionId| {
        let mut p = Fields::default();
        if let Some(s) = status {
            p.set("status", s.as_str());
        }
        if !q.is_empty() {
            p.set("q", q);
            p.set("by", by.param());
        }
        p.set(key, id.as_str());
        format!("/dashboard/sessions?{}", p.encode())
    };
    let (newer, older) = match cursor {
        None => (false, has_more),
        Some(Cursor::After(_)) => (true, has_more),
        Some(Cursor::Before(_)) => (has_more, true),
    };
    let mut out = Html::trusted("<nav class=\"pager\" aria-label=\"Pages\">");
    if let (true, Some(first)) = (newer, items.first()) {
        out.push(Html::trusted(format!(
            "<a rel=\"prev\" href=\"{}\">← Newer</a>",
            Html::text(&base("ending_before", &first.id)).as_str()
        )));
    }
    if let (true, Some(last)) = (older, items.last()) {
        out.push(Html::trusted(format!(
            "<a rel=\"next\" href=\"{}\">Older →</a>",
            Html::text(&base("starting_after", &last.id)).as_str()
        )));
    }
    out.push(Html::trusted("</nav>"));
    out
}

/// A message shown above a session after an action.
pub(crate) struct Flash {
    pub ok: bool,
    pub text: String,
}

/// What `?done=` after an action says (fixed texts: nothing from the URL is shown).
fn done_message(done: &str) -> Option<&'static str> {
    Some(match done {
        "cancel" => "The session was canceled.",
        "redact" => "Redaction started; the session's personal data is being erased.",
        "verify" => "The session was verified (test mode).",
        "unverify" => "The verification failed with the chosen error (test mode).",
        "refresh_link" => "A fresh hosted-page link was minted.",
        _ => return None,
    })
}

pub(crate) async fn detail(
    State(dash): State<Dash>,
    headers: HeaderMap,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<DashPage, DashError> {
    let me = me(&dash, &headers).await?;
    let flash = query(&uri)
        .get("done")
        .and_then(done_message)
        .map(|t| Flash {
            ok: true,
            text: t.to_owned(),
        });
    detail_page(&dash, &me, &id, flash, StatusCode::OK).await
}

/// The session page, optionally with a message about the last action.
pub(crate) async fn detail_page(
    dash: &Dash,
    me: &Me,
    id: &str,
    flash: Option<Flash>,
    status: StatusCode,
) -> Result<DashPage, DashError> {
    let account = &me.account.id;
    let id = SessionId::parse(id).ok_or(DashError::NotFound)?;
    let store = &dash.app.store;
    let s = store
        .get_session(account, &id)
        .await?
        .ok_or(DashError::NotFound)?;
    let reports = store
        .list_reports(
            account,
            &ReportFilter {
                verification_session: Some(id.to_string()),
                ..ReportFilter::default()
            },
            None,
            20,
        )
        .await?
        .items;
    let events = store
        .list_events(
            account,
            &EventFilter {
                session: Some(id.to_string()),
                ..EventFilter::default()
            },
            None,
            100,
        )
        .await?
        .items;
    let views = store.list_file_views(account, &id, VIEWS_SHOWN).await?;
    let hidden = s.is_redacted();
    let now = dash.app.clock.now_ms();

    let flash = match flash {
        None => Html::default(),
        Some(f) => Html::trusted(format!(
            "<div class=\"notice {}\" role=\"{}\" id=\"flash\">{}</div>",
            if f.ok { "ok" } else { "error" },
            if f.ok { "status" } else { "alert" },
            Html::text(&f.text).as_str()
        )),
    };
    let text = |v: Option<&str>| if hidden { redacted() } else { or_dash(v) };
    let mut facts = Html::default();
    facts.push(row("Status", status_tag(s.status)));
    facts.push(row("Type", Html::text(s.kind.as_str())));
    facts.push(row("Mode", Html::text(view::mode_name(s.livemode))));
    facts.push(row("Created", time_tag(s.created)));
    facts.push(row(
        "client_reference_id",
        text(s.client_reference_id.as_deref()),
    ));
    facts.push(row("related_customer", text(s.related_customer.as_deref())));
    facts.push(row("last_error", last_error(s.last_error.as_ref())));
    facts.push(row(
        "Redaction",
        match s.redaction {
            None => or_dash(None),
            Some(r) => Html::text(r.as_str()),
        },
    ));
    facts.push(row("return_url", text(s.return_url.as_deref())));

    let metadata = if hidden {
        redacted()
    } else if s.metadata.is_empty() {
        Html::trusted("<p class=\"muted\">No metadata.</p>")
    } else {
        let mut t = Html::trusted("<table class=\"facts\" id=\"metadata\"><tbody>");
        for (k, v) in &s.metadata {
            t.push(row(k, Html::text(v)));
        }
        t.push(Html::trusted("</tbody></table>"));
        t
    };

    let body = fill(
        DETAIL,
        &[
            ("id", &Html::text(s.id.as_str())),
            ("flash", &flash),
            ("facts", &facts),
            ("link", &link(dash, me, &s, now)),
            ("actions", &super::actions::buttons(me, &s)),
            ("metadata", &metadata),
            ("outputs", &outputs(&s)),
            ("reports", &reports_html(&s, &reports)),
            ("views", &file_views(&s, &views)),
            ("events", &timeline(&events)),
        ],
    );
    let mut page = DashPage::new(me, Section::Sessions, s.id.as_str(), body);
    page.status = status;
    Ok(page)
}

fn last_error(e: Option<&LastError>) -> Html {
    match e {
        None => or_dash(None),
        Some(e) => Html::trusted(format!(
            "<code>{}</code> — {}",
            Html::text(e.code.as_str()).as_str(),
            Html::text(&e.reason).as_str()
        )),
    }
}

/// The hosted-page link with a copy button, or why there is none.
fn link(dash: &Dash, me: &Me, s: &Session, now_ms: i64) -> Html {
    if let Some(token) = s.live_url_token(now_ms) {
        let url = format!("{}/verify/{token}", dash.app.config.public_url);
        return Html::trusted(format!(
            "<div class=\"copy\"><label for=\"hosted-link\">Hosted-page link (single use)</label>\
             <input id=\"hosted-link\" type=\"text\" readonly value=\"{u}\">\
             <button type=\"button\" class=\"button small\" data-copy=\"hosted-link\">Copy link</button>\
             <span class=\"copied\" role=\"status\" aria-live=\"polite\"></span></div>",
            u = Html::text(&url).as_str()
        ));
    }
    if s.status == Status::RequiresInput && !s.is_redacted() {
        let mut out =
            Html::trusted("<p class=\"muted\">The last link was used or has expired.</p>");
        out.push(view::post_button(
            me,
            &format!("/dashboard/sessions/{}/refresh_link", s.id.as_str()),
            "Mint a fresh link",
            "secondary",
            Html::default(),
        ));
        return out;
    }
    Html::trusted("<p class=\"muted\">No link: the session is not waiting for input.</p>")
}

fn outputs(s: &Session) -> Html {
    if s.is_redacted() {
        return redacted();
    }
    let Some(o) = &s.verified_outputs else {
        return Html::trusted("<p class=\"muted\">No verified outputs.</p>");
    };
    let mut t = Html::trusted("<table class=\"facts\"><tbody>");
    let name = [o.first_name.as_deref(), o.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    t.push(row("Name", or_dash(Some(&name))));
    if let Some(d) = &o.dob {
        t.push(row(
            "Date of birth",
            Html::text(&format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)),
        ));
    }
    if let Some(a) = &o.address {
        let parts = [
            &a.line1,
            &a.line2,
            &a.city,
            &a.state,
            &a.postal_code,
            &a.country,
        ];
        let line = parts
            .iter()
            .filter_map(|p| p.as_deref())
            .collect::<Vec<_>>()
            .join(", ");
        t.push(row("Address", or_dash(Some(&line))));
    }
    t.push(row("ID number type", or_dash(o.id_number_type.as_deref())));
    t.push(Html::trusted("</tbody></table>"));
    t
}

fn check_row(name: &str, status: CheckStatus, error: Option<&LastError>) -> Html {
    Html::trusted(format!(
        "<tr><th scope=\"row\">{}</th><td><span class=\"check check-{s}\">{s}</span></td><td>{}</td></tr>",
        Html::text(name).as_str(),
        last_error(error).as_str(),
        s = status.as_str(),
    ))
}

fn reports_html(s: &Session, reports: &[Report]) -> Html {
    if reports.is_empty() {
        return Html::trusted("<p class=\"muted\">No verification reports yet.</p>");
    }
    let mut out = Html::default();
    let mut images = false;
    for r in reports {
        out.push(Html::trusted(format!(
            "<section class=\"report\" aria-labelledby=\"h-{id}\"><h3 id=\"h-{id}\"><code>{id}</code> · {}</h3>\
             <table class=\"checks\"><thead><tr><th scope=\"col\">Check</th><th scope=\"col\">Result</th><th scope=\"col\">Error</th></tr></thead><tbody>",
            time_tag(r.created).as_str(),
            id = Html::text(r.id.as_str()).as_str(),
        )));
        if let Some(d) = &r.document {
            out.push(check_row("Document", d.status, d.error.as_ref()));
            images |= !d.files.is_empty();
        }
        if let Some(n) = &r.id_number {
            out.push(check_row("ID number", n.status, n.error.as_ref()));
        }
        if let Some(sf) = &r.selfie {
            out.push(check_row("Selfie", sf.status, sf.error.as_ref()));
            images |= sf.selfie.is_some();
        }
        out.push(Html::trusted("</tbody></table></section>"));
    }
    if images && !s.is_redacted() {
        out.push(Html::trusted(format!(
            "<p><a href=\"/dashboard/sessions/{}/images\">View the uploaded images</a> \
             <span class=\"muted\">(each viewing is recorded and listed under Image views)</span></p>",
            Html::text(s.id.as_str()).as_str()
        )));
    }
    out
}

/// Who viewed the session's images and when (ids only; kept after redaction).
fn file_views(s: &Session, views: &Page<FileView>) -> Html {
    if views.items.is_empty() {
        return Html::trusted(
            "<p class=\"muted\" id=\"image-views\">No one has viewed this session's images.</p>",
        );
    }
    let mut out = Html::default();
    if s.is_redacted() {
        out.push(Html::trusted(
            "<p class=\"muted\">The images were erased at redaction; the record of who viewed \
             them stays.</p>",
        ));
    }
    out.push(Html::trusted(
        "<table class=\"views\" id=\"image-views\"><thead><tr><th scope=\"col\">When</th>\
         <th scope=\"col\">File</th><th scope=\"col\">Viewed by</th></tr></thead><tbody>",
    ));
    for v in &views.items {
        out.push(Html::trusted(format!(
            "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            time_tag(v.viewed_ms.div_euclid(1000)).as_str(),
            Html::text(v.file_id.as_str()).as_str(),
            Html::text(&v.viewer).as_str(),
        )));
    }
    out.push(Html::trusted("</tbody></table>"));
    if views.has_more {
        out.push(Html::trusted(format!(
            "<p class=\"muted\">The {VIEWS_SHOWN} most recent views; older ones are kept in the \
             database.</p>"
        )));
    }
    out
}

fn timeline(events: &[vouch_store::StoredEvent]) -> Html {
    if events.is_empty() {
        return Html::trusted("<p class=\"muted\">No events (events are kept for 30 days).</p>");
    }
    let mut out = Html::trusted("<ol class=\"timeline\" id=\"timeline\">");
    for e in events {
        let ev = &e.event;
        let kind = ev.kind.as_str();
        let short = kind.rsplit('.').next().unwrap_or(kind);
        let cause = match &ev.request.id {
            Some(r) => format!("request {r}"),
            None => "automatic".to_owned(),
        };
        let pending = if e.pending_webhooks > 0 {
            format!(" · {} webhook(s) pending", e.pending_webhooks)
        } else {
            String::new()
        };
        out.push(Html::trusted(format!(
            "<li class=\"event event-{short}\"><span class=\"event-type\">{}</span> {} \
             <span class=\"muted\">{}{}</span> <code class=\"muted\">{}</code></li>",
            Html::text(kind).as_str(),
            time_tag(ev.created).as_str(),
            Html::text(&cause).as_str(),
            Html::text(&pending).as_str(),
            Html::text(ev.id.as_str()).as_str(),
        )));
    }
    out.push(Html::trusted("</ol>"));
    out
}

/// The failure codes a test-mode unverify can choose for this session, check codes first.
pub(crate) fn failure_codes(s: &Session) -> Vec<ErrorCode> {
    let (mut checks, mut user): (Vec<ErrorCode>, Vec<ErrorCode>) = ErrorCode::ALL
        .iter()
        .map(|(_, c)| *c)
        .filter(|c| vouch_domain::flow::code_fits(s, *c))
        .partition(|c| !vouch_domain::flow::is_user_side(*c));
    checks.append(&mut user);
    checks
}
