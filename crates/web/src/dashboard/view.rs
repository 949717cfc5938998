//! Pieces every dashboard page shares: navigation, the test/live banner, the account bar,
//! times, durations and status labels. Everything from outside goes through `Html::text`.

use vouch_domain::session::{Account, Status, WireEnum};

use super::auth::{account_label, Me, Who};
use super::Section;
use crate::html::Html;

pub(crate) fn mode_name(livemode: bool) -> &'static str {
    if livemode {
        "live"
    } else {
        "test"
    }
}

pub(crate) fn nav(current: Section) -> Html {
    let mut out = Html::trusted("<nav class=\"dash-nav\" aria-label=\"Dashboard\"><ul>");
    for (section, href, label) in [
        (Section::Overview, "/dashboard", "Overview"),
        (Section::Sessions, "/dashboard/sessions", "Sessions"),
        (Section::Webhooks, "/dashboard/webhooks", "Webhooks"),
    ] {
        let current = if section == current {
            " aria-current=\"page\""
        } else {
            ""
        };
        out.push(Html::trusted(format!(
            "<li><a href=\"{href}\"{current}>{label}</a></li>"
        )));
    }
    out.push(Html::trusted("</ul></nav>"));
    out
}

/// The banner that tells test data from live data at a glance.
pub(crate) fn mode_banner(account: &Account) -> Html {
    if account.livemode {
        Html::trusted(
            "<div class=\"mode-banner live\" role=\"note\"><strong>Live mode</strong> — real \
             people's data. Actions here are real.</div>",
        )
    } else {
        Html::trusted(
            "<div class=\"mode-banner test\" role=\"note\"><strong>Test mode</strong> — test \
             data only; test-mode outcomes can be chosen here.</div>",
        )
    }
}

/// The signed-in account, the operator's account choice, and sign out.
pub(crate) fn account_bar(me: &Me) -> Html {
    let mut out = Html::trusted("<div class=\"account\">");
    if me.who == Who::Operator && me.accounts.len() > 1 {
        out.push(Html::trusted(
            "<form method=\"post\" action=\"/dashboard/account\" class=\"inline\">",
        ));
        out.push(me.csrf_field());
        out.push(Html::trusted(
            "<label for=\"account-choice\">Account</label> <select id=\"account-choice\" name=\"account\">",
        ));
        for a in &me.accounts {
            let selected = if a.id == me.account.id {
                " selected"
            } else {
                ""
            };
            out.push(Html::trusted(format!(
                "<option value=\"{}\"{selected}>{}</option>",
                Html::text(&a.id).as_str(),
                Html::text(&account_label(a)).as_str()
            )));
        }
        out.push(Html::trusted(
            "</select> <button type=\"submit\" class=\"button small\">View</button></form>",
        ));
    } else {
        out.push(Html::trusted(format!(
            "<span class=\"account-id\">{}</span>",
            Html::text(&account_label(&me.account)).as_str()
        )));
    }
    match &me.who {
        Who::Operator => out.push(Html::trusted("<span class=\"tag\">operator</span>")),
        Who::CreatedKey(id) => out.push(Html::trusted(format!(
            "<span class=\"tag\" id=\"signed-in-key\">{}</span>",
            Html::text(id).as_str()
        ))),
        Who::Key => {}
    }
    out.push(Html::trusted(
        "<form method=\"post\" action=\"/dashboard/logout\" class=\"inline\">",
    ));
    out.push(me.csrf_field());
    out.push(Html::trusted(
        "<button type=\"submit\" class=\"button small secondary\">Sign out</button></form></div>",
    ));
    out
}

/// A status as a coloured label (the word is always shown; colour is never the only cue).
pub(crate) fn status_tag(status: Status) -> Html {
    let s = status.as_str();
    Html::trusted(format!(
        "<span class=\"status status-{s}\">{}</span>",
        status_label(status)
    ))
}

pub(crate) fn status_label(status: Status) -> &'static str {
    match status {
        Status::Canceled => "canceled",
        Status::Processing => "processing",
        Status::RequiresInput => "requires input",
        Status::Verified => "verified",
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `2026-05-01`.
pub(crate) fn date(unix_s: i64) -> String {
    let (y, m, d) = civil_from_days(unix_s.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `2026-05-01 12:34:56 UTC`.
pub(crate) fn time(unix_s: i64) -> String {
    let secs = unix_s.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}:{:02} UTC",
        date(unix_s),
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// A `<time>` element.
pub(crate) fn time_tag(unix_s: i64) -> Html {
    Html::trusted(format!(
        "<time datetime=\"{}\">{}</time>",
        date(unix_s),
        time(unix_s)
    ))
}

/// `42 s`, `3 min 5 s`, `2 h 10 min`, `3 d 4 h`.
pub(crate) fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min {} s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{} h {} min", s / 3600, (s / 60) % 60)
    } else {
        format!("{} d {} h", s / 86_400, (s / 3600) % 24)
    }
}

/// A value, or an em dash for none.
pub(crate) fn or_dash(v: Option<&str>) -> Html {
    match v {
        Some(v) if !v.is_empty() => Html::text(v),
        _ => Html::trusted("<span class=\"muted\">—</span>"),
    }
}

/// What redacted data shows instead of itself.
pub(crate) fn redacted() -> Html {
    Html::trusted("<span class=\"redacted\">[redacted]</span>")
}

/// One `<tr><th>…</th><td>…</td></tr>` of a facts table.
pub(crate) fn row(label: &str, value: Html) -> Html {
    Html::trusted(format!(
        "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
        Html::text(label).as_str(),
        value.as_str()
    ))
}

/// A `POST` button form with the CSRF token.
pub(crate) fn post_button(me: &Me, action: &str, label: &str, class: &str, extra: Html) -> Html {
    let mut out = Html::trusted(format!(
        "<form method=\"post\" action=\"{}\" class=\"inline\">",
        Html::text(action).as_str()
    ));
    out.push(me.csrf_field());
    out.push(extra);
    out.push(Html::trusted(format!(
        "<button type=\"submit\" class=\"button {}\">{}</button></form>",
        Html::text(class).as_str(),
        Html::text(label).as_str()
    )));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_civil_dates() {
        assert_eq!(time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(time(1_767_225_599), "2025-12-31 23:59:59 UTC");
        assert_eq!(date(-86_400), "1969-12-31");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(5), "5 s");
        assert_eq!(duration(185), "3 min 5 s");
        assert_eq!(duration(7800), "2 h 10 min");
        assert_eq!(duration(273_600), "3 d 4 h");
        assert_eq!(duration(-3), "0 s");
    }
}
