//! The overview: counts per status, and for the last 30 days (UTC) the sessions created each
//! day by their outcome and the median time to verify, drawn as inline SVG (no script, no
//! external asset; colours come from the stylesheet) with the same numbers in a table.

use axum::extract::State;
use axum::http::HeaderMap;
use vouch_domain::event::EventType;
use vouch_domain::ids::{EventId, SessionId};
use vouch_domain::session::{Status, WireEnum};
use vouch_store::{CreatedRange, Cursor, EventFilter, SessionFilter};

use super::auth::me;
use super::view::{self, status_label};
use super::{Dash, DashError, DashPage, Section};
use crate::html::{fill, Html};

const PAGE: &str = include_str!("../../templates/dashboard/overview.html");
/// Days shown.
const DAYS: usize = 30;
/// At most this many sessions (and verifications) are read for the charts.
const SCAN_LIMIT: usize = 20_000;
const BATCH: usize = 100;

/// The statuses in the order they are stacked.
const STACK: [Status; 4] = [
    Status::Verified,
    Status::RequiresInput,
    Status::Processing,
    Status::Canceled,
];

/// What the charts show.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Stats {
    /// Per day (oldest first): sessions created that day by their current status.
    pub per_day: Vec<[u64; 4]>,
    /// Per day (oldest first): seconds from creation to verification of the sessions verified
    /// that day.
    pub verify_times: Vec<Vec<i64>>,
    /// Whether the scan stopped at `SCAN_LIMIT`.
    pub truncated: bool,
}

fn median(values: &[i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2
    } else {
        v[mid]
    })
}

async fn stats(dash: &Dash, account: &str, first_day: i64) -> Result<Stats, DashError> {
    let store = &dash.app.store;
    let since = first_day * 86_400;
    let mut out = Stats {
        per_day: vec![[0; 4]; DAYS],
        verify_times: vec![Vec::new(); DAYS],
        truncated: false,
    };
    let day_index = |created: i64| {
        let d = created.div_euclid(86_400) - first_day;
        usize::try_from(d).ok().filter(|d| *d < DAYS)
    };
    let filter = SessionFilter {
        created: CreatedRange {
            gte: Some(since),
            ..CreatedRange::default()
        },
        ..SessionFilter::default()
    };
    let mut cursor: Option<Cursor<SessionId>> = None;
    let mut seen = 0;
    loop {
        let page = store
            .list_sessions(account, &filter, cursor.as_ref(), BATCH)
            .await?;
        for s in &page.items {
            if let (Some(d), Some(k)) = (
                day_index(s.created),
                STACK.iter().position(|st| *st == s.status),
            ) {
                out.per_day[d][k] += 1;
            }
        }
        seen += page.items.len();
        match page.items.last() {
            Some(last) if page.has_more && seen < SCAN_LIMIT => {
                cursor = Some(Cursor::After(last.id.clone()));
            }
            _ => {
                out.truncated |= page.has_more;
                break;
            }
        }
    }
    let filter = EventFilter {
        types: Some(vec![EventType::Verified.as_str().to_owned()]),
        created: CreatedRange {
            gte: Some(since),
            ..CreatedRange::default()
        },
        ..EventFilter::default()
    };
    let mut cursor: Option<Cursor<EventId>> = None;
    let mut seen = 0;
    loop {
        let page = store
            .list_events(account, &filter, cursor.as_ref(), BATCH)
            .await?;
        for e in &page.items {
            if let Some(d) = day_index(e.event.created) {
                out.verify_times[d].push(e.event.created - e.event.session.created);
            }
        }
        seen += page.items.len();
        match page.items.last() {
            Some(last) if page.has_more && seen < SCAN_LIMIT => {
                cursor = Some(Cursor::After(last.event.id.clone()));
            }
            _ => {
                out.truncated |= page.has_more;
                break;
            }
        }
    }
    Ok(out)
}

pub(crate) async fn page(
    State(dash): State<Dash>,
    headers: HeaderMap,
) -> Result<DashPage, DashError> {
    let me = me(&dash, &headers).await?;
    let today = dash.app.clock.now_ms().div_euclid(1000).div_euclid(86_400);
    let first_day = today - (DAYS as i64 - 1);
    let counts = dash.app.store.session_counts(&me.account.id).await?;
    let stats = stats(&dash, &me.account.id, first_day).await?;

    let mut cards = Html::trusted("<ul class=\"cards\">");
    for (_, s) in Status::ALL {
        let n = counts.iter().find(|(c, _)| c == s).map_or(0, |(_, n)| *n);
        cards.push(Html::trusted(format!(
            "<li class=\"card-{st}\"><a href=\"/dashboard/sessions?status={st}\"><span class=\"big\">{n}</span> {}</a></li>",
            status_label(*s),
            st = s.as_str(),
        )));
    }
    cards.push(Html::trusted("</ul>"));

    let all_times: Vec<i64> = stats.verify_times.iter().flatten().copied().collect();
    let created: u64 = stats.per_day.iter().flatten().sum();
    let median_all = match median(&all_times) {
        Some(m) => format!(
            "{} (over {} verification{})",
            view::duration(m),
            all_times.len(),
            if all_times.len() == 1 { "" } else { "s" }
        ),
        None => "no verifications yet".to_owned(),
    };
    let summary = Html::trusted(format!(
        "<p id=\"summary\">{created} session{} created in the last {DAYS} days. Median time to verify: <strong>{}</strong>.{}</p>",
        if created == 1 { "" } else { "s" },
        Html::text(&median_all).as_str(),
        if stats.truncated {
            format!(" <span class=\"muted\">(charts count the newest {SCAN_LIMIT} only)</span>")
        } else {
            String::new()
        }
    ));
    let body = fill(
        PAGE,
        &[
            ("cards", &cards),
            ("summary", &summary),
            ("outcomes", &outcomes_chart(&stats, first_day)),
            ("medians", &median_chart(&stats, first_day)),
            ("table", &table(&stats, first_day)),
        ],
    );
    Ok(DashPage::new(&me, Section::Overview, "Overview", body))
}

const W: i64 = 720;
const H: i64 = 240;
const LEFT: i64 = 56;
const BOTTOM: i64 = 28;
const TOP: i64 = 12;

/// The chart frame: horizontal grid lines with labels at 0, half and the maximum, and a date
/// under every fifth day.
fn frame(max_label: &str, half_label: &str, first_day: i64) -> String {
    let plot_h = H - BOTTOM - TOP;
    let mut s = String::new();
    for (y, label) in [
        (TOP, max_label),
        (TOP + plot_h / 2, half_label),
        (H - BOTTOM, "0"),
    ] {
        s.push_str(&format!(
            "<line class=\"grid\" x1=\"{LEFT}\" y1=\"{y}\" x2=\"{W}\" y2=\"{y}\"/>\
             <text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            LEFT - 6,
            y + 4,
            Html::text(label).as_str()
        ));
    }
    let bar_w = (W - LEFT) / DAYS as i64;
    for i in (0..DAYS as i64).step_by(5) {
        let date = view::date((first_day + i) * 86_400);
        s.push_str(&format!(
            "<text class=\"axis\" x=\"{}\" y=\"{}\">{}</text>",
            LEFT + i * bar_w,
            H - 8,
            date.get(5..).unwrap_or(&date)
        ));
    }
    s
}

fn svg(id: &str, title: &str, desc: &str, inner: &str) -> Html {
    Html::trusted(format!(
        "<svg class=\"chart\" id=\"{id}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>{inner}</svg>",
        Html::text(title).as_str(),
        Html::text(desc).as_str()
    ))
}

fn outcomes_chart(stats: &Stats, first_day: i64) -> Html {
    let max = stats
        .per_day
        .iter()
        .map(|d| d.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(2);
    let plot_h = (H - BOTTOM - TOP) as u64;
    let bar_w = (W - LEFT) / DAYS as i64;
    let mut inner = frame(&max.to_string(), &(max / 2).to_string(), first_day);
    for (i, day) in stats.per_day.iter().enumerate() {
        let x = LEFT + i as i64 * bar_w + 2;
        let mut y = (H - BOTTOM) as u64;
        for (k, n) in day.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let h = (n * plot_h).div_ceil(max);
            y = y.saturating_sub(h);
            inner.push_str(&format!(
                "<rect class=\"bar-{}\" x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{h}\"><title>{}: {n} {}</title></rect>",
                STACK[k].as_str(),
                bar_w - 4,
                view::date((first_day + i as i64) * 86_400),
                status_label(STACK[k])
            ));
        }
    }
    svg(
        "chart-outcomes",
        "Sessions per day by outcome",
        "Stacked bars: sessions created each day of the last 30 days, by their current status. The table below has the same numbers.",
        &inner,
    )
}

fn median_chart(stats: &Stats, first_day: i64) -> Html {
    let medians: Vec<Option<i64>> = stats.verify_times.iter().map(|t| median(t)).collect();
    let max = medians.iter().flatten().copied().max().unwrap_or(0).max(2);
    let plot_h = H - BOTTOM - TOP;
    let bar_w = (W - LEFT) / DAYS as i64;
    let mut inner = frame(&view::duration(max), &view::duration(max / 2), first_day);
    for (i, m) in medians.iter().enumerate() {
        let Some(m) = m else { continue };
        let h = ((m * plot_h) / max).max(1);
        inner.push_str(&format!(
            "<rect class=\"bar-median\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{h}\"><title>{}: median {}</title></rect>",
            LEFT + i as i64 * bar_w + 2,
            H - BOTTOM - h,
            bar_w - 4,
            view::date((first_day + i as i64) * 86_400),
            view::duration(*m)
        ));
    }
    svg(
        "chart-medians",
        "Median time to verify per day",
        "Bars: for the sessions verified each day of the last 30 days, the median time from creation to verification. The table below has the same numbers.",
        &inner,
    )
}

fn table(stats: &Stats, first_day: i64) -> Html {
    let mut out =
        Html::trusted("<table class=\"numbers\"><thead><tr><th scope=\"col\">Day (UTC)</th>");
    for s in STACK {
        out.push(Html::trusted(format!(
            "<th scope=\"col\">{}</th>",
            status_label(s)
        )));
    }
    out.push(Html::trusted(
        "<th scope=\"col\">Median time to verify</th></tr></thead><tbody>",
    ));
    for (i, day) in stats.per_day.iter().enumerate().rev() {
        out.push(Html::trusted(format!(
            "<tr><th scope=\"row\">{}</th>",
            view::date((first_day + i as i64) * 86_400)
        )));
        for n in day {
            out.push(Html::trusted(format!("<td>{n}</td>")));
        }
        let m = stats
            .verify_times
            .get(i)
            .and_then(|t| median(t))
            .map_or_else(|| "—".to_owned(), view::duration);
        out.push(Html::trusted(format!("<td>{m}</td></tr>")));
    }
    out.push(Html::trusted("</tbody></table>"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5]), Some(5));
        assert_eq!(median(&[9, 1, 5]), Some(5));
        assert_eq!(median(&[1, 2, 3, 10]), Some(2));
    }

    #[test]
    fn charts_are_plain_svg_without_script_or_style_attributes() {
        let mut stats = Stats {
            per_day: vec![[0; 4]; DAYS],
            verify_times: vec![Vec::new(); DAYS],
            truncated: false,
        };
        stats.per_day[29] = [3, 1, 0, 2];
        stats.verify_times[29] = vec![30, 90];
        for chart in [outcomes_chart(&stats, 20_000), median_chart(&stats, 20_000)] {
            let s = chart.as_str();
            assert!(s.starts_with("<svg"));
            assert!(s.contains("role=\"img\""));
            assert!(!s.contains("<script") && !s.contains("style=") && !s.contains("http://w"));
        }
        assert!(outcomes_chart(&stats, 20_000)
            .as_str()
            .contains("3 verified"));
        assert!(median_chart(&stats, 20_000)
            .as_str()
            .contains("median 1 min 0 s"));
    }
}
