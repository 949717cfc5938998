//! The one log line per request, written straight to stderr.
//!
//! It reads exactly like the lines `tracing_subscriber`'s formatter writes for vouch's other
//! logs (text or JSON, same fields, same order), but skips its per-field formatting
//! machinery: at tens of thousands of requests a second that was a tenth of a request's
//! instructions. It obeys `VOUCH_LOG` like every other line (target `vouch::http`, INFO).

use std::fmt::Write as _;
use std::io::Write as _;

use vouch_domain::outputs::Date;

/// Where and how request lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AccessLogFormat {
    #[default]
    Text,
    Json,
}

/// One request's line.
pub struct RequestLine<'a> {
    /// When: seconds and microseconds since the Unix epoch ([`wall_clock`]).
    pub at: (i64, u32),
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub latency_ms: f64,
    pub request_id: &'a str,
}

/// Writes the line when `vouch::http` INFO is enabled.
pub fn record(format: AccessLogFormat, line: &RequestLine<'_>) {
    if !tracing::enabled!(target: "vouch::http", tracing::Level::INFO) {
        return;
    }
    let text = render(format, line);
    // One write per line, like the formatter; a failed log write is not the request's error.
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// The line, newline included.
pub fn render(format: AccessLogFormat, l: &RequestLine<'_>) -> String {
    let mut out = String::with_capacity(200 + l.path.len());
    let ts = Timestamp(l.at.0, l.at.1);
    match format {
        AccessLogFormat::Text => {
            let _ = writeln!(
                out,
                "{ts}  INFO vouch::http: request method={} path={} status={} latency_ms={:.2} request_id={}",
                l.method, l.path, l.status, l.latency_ms, l.request_id
            );
        }
        AccessLogFormat::Json => {
            let _ = write!(
                out,
                "{{\"timestamp\":\"{ts}\",\"level\":\"INFO\",\"message\":\"request\",\"method\":"
            );
            json_str(&mut out, l.method);
            out.push_str(",\"path\":");
            json_str(&mut out, l.path);
            let _ = write!(
                out,
                ",\"status\":{},\"latency_ms\":\"{:.2}\",\"request_id\":",
                l.status, l.latency_ms
            );
            json_str(&mut out, l.request_id);
            out.push_str(",\"target\":\"vouch::http\"}\n");
        }
    }
    out
}

fn json_str(out: &mut String, s: &str) {
    // serde_json's escaping; writing into a String cannot fail.
    if let Ok(quoted) = serde_json::to_string(s) {
        out.push_str(&quoted);
    }
}

/// RFC 3339 in UTC with microseconds, as the formatter writes it: `2026-11-22T00:20:25.202132Z`.
struct Timestamp(i64, u32);

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (secs, micros) = (self.0, self.1);
        let d = Date::from_unix_ms(secs.saturating_mul(1000));
        let of_day = secs.rem_euclid(86_400);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            d.year,
            d.month,
            d.day,
            of_day / 3600,
            of_day % 3600 / 60,
            of_day % 60,
            micros
        )
    }
}

/// Seconds and microseconds since the Unix epoch, from the system clock (log lines say when
/// they were written, whatever clock the API runs on).
pub fn wall_clock() -> (i64, u32) {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_micros()),
        Err(_) => (0, 0),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn line() -> RequestLine<'static> {
        RequestLine {
            at: (1_795_306_825, 202_132),
            method: "GET",
            path: "/v1/identity/verification_sessions/vs_\"x",
            status: 404,
            latency_ms: 0.0912,
            request_id: "req_3Y7SCeIYJvbDKZ",
        }
    }

    #[test]
    fn text_reads_like_the_formatter() {
        assert_eq!(
            render(AccessLogFormat::Text, &line()),
            "2026-11-22T00:20:25.202132Z  INFO vouch::http: request method=GET \
             path=/v1/identity/verification_sessions/vs_\"x status=404 latency_ms=0.09 \
             request_id=req_3Y7SCeIYJvbDKZ\n"
        );
    }

    #[test]
    fn json_reads_like_the_formatter_and_escapes() {
        let text = render(AccessLogFormat::Json, &line());
        assert_eq!(
            text,
            "{\"timestamp\":\"2026-11-22T00:20:25.202132Z\",\"level\":\"INFO\",\
             \"message\":\"request\",\"method\":\"GET\",\
             \"path\":\"/v1/identity/verification_sessions/vs_\\\"x\",\"status\":404,\
             \"latency_ms\":\"0.09\",\"request_id\":\"req_3Y7SCeIYJvbDKZ\",\
             \"target\":\"vouch::http\"}\n"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["status"], 404);
    }

    #[test]
    fn timestamps_before_and_after_leap_days() {
        let ts = |s| Timestamp(s, 7).to_string();
        assert_eq!(ts(0), "1970-01-01T00:00:00.000007Z");
        assert_eq!(ts(951_782_400), "2000-02-29T00:00:00.000007Z");
        assert_eq!(ts(1_709_251_199), "2024-02-29T23:59:59.000007Z");
    }
}
