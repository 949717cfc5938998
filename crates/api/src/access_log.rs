//! The one log line per request, written to stderr in batches.
//!
//! It reads exactly like the lines `tracing_subscriber`'s formatter writes for vouch's other
//! logs (text or JSON, same fields, same order), but skips its per-field formatting
//! machinery: at tens of thousands of requests a second that was a tenth of a request's
//! instructions. It obeys `VOUCH_LOG` like every other line (target `vouch::http`, INFO).

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
    /// How long the request took, in microseconds (logged in milliseconds, two decimals).
    pub latency_us: u128,
    pub request_id: &'a str,
}

/// Request lines waiting to be written. Lines are appended under a short lock and written in
/// batches — by [`AccessLog::flush`], which the server calls every
/// [`FLUSH_EVERY_MS`] and at shutdown, or at once when [`FLUSH_AT_BYTES`] are waiting — so a
/// request costs no write system call and no wait on stderr's lock (nginx's `buffer=`/`flush=`).
/// A process killed outright loses at most the last few milliseconds of request lines.
pub struct AccessLog {
    format: AccessLogFormat,
    pending: std::sync::Mutex<Vec<u8>>,
    /// Held while writing, so batches reach stderr in the order their lines were added.
    writing: std::sync::Mutex<()>,
}

/// How often the server writes waiting lines.
pub const FLUSH_EVERY_MS: u64 = 10;
/// Waiting bytes that make the request that added them write them at once.
pub const FLUSH_AT_BYTES: usize = 32 * 1024;

impl AccessLog {
    pub fn new(format: AccessLogFormat) -> AccessLog {
        AccessLog {
            format,
            pending: std::sync::Mutex::new(Vec::with_capacity(FLUSH_AT_BYTES * 2)),
            writing: std::sync::Mutex::new(()),
        }
    }

    /// Adds the line when `vouch::http` INFO is enabled.
    pub fn record(&self, line: &RequestLine<'_>) {
        if !tracing::enabled!(target: "vouch::http", tracing::Level::INFO) {
            return;
        }
        let text = render(self.format, line);
        let full = {
            let mut pending = lock(&self.pending);
            pending.extend_from_slice(text.as_bytes());
            pending.len() >= FLUSH_AT_BYTES
        };
        if full {
            self.flush();
        }
    }

    /// Writes every waiting line to stderr.
    pub fn flush(&self) {
        let _order = lock(&self.writing);
        let batch = {
            let mut pending = lock(&self.pending);
            if pending.is_empty() {
                return;
            }
            std::mem::replace(&mut *pending, Vec::with_capacity(FLUSH_AT_BYTES * 2))
        };
        // A failed log write is not a request's error.
        let _ = std::io::stderr().lock().write_all(&batch);
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Appending bytes cannot leave the buffer inconsistent: a poisoned lock is safe to reuse.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The line, newline included. Numbers are written digit by digit: `core::fmt` cost more
/// than the rest of the line.
pub fn render(format: AccessLogFormat, l: &RequestLine<'_>) -> String {
    let mut out = String::with_capacity(200 + l.path.len());
    match format {
        AccessLogFormat::Text => {
            timestamp(&mut out, l.at);
            out.push_str("  INFO vouch::http: request method=");
            out.push_str(l.method);
            out.push_str(" path=");
            out.push_str(l.path);
            out.push_str(" status=");
            digits(&mut out, u64::from(l.status), 1);
            out.push_str(" latency_ms=");
            latency(&mut out, l.latency_us);
            out.push_str(" request_id=");
            out.push_str(l.request_id);
            out.push('\n');
        }
        AccessLogFormat::Json => {
            out.push_str("{\"timestamp\":\"");
            timestamp(&mut out, l.at);
            out.push_str("\",\"level\":\"INFO\",\"message\":\"request\",\"method\":");
            json_str(&mut out, l.method);
            out.push_str(",\"path\":");
            json_str(&mut out, l.path);
            out.push_str(",\"status\":");
            digits(&mut out, u64::from(l.status), 1);
            out.push_str(",\"latency_ms\":\"");
            latency(&mut out, l.latency_us);
            out.push_str("\",\"request_id\":");
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

/// `n` in decimal, zero-padded to at least `width` digits. (u64: a u128 division is a call
/// into the compiler's runtime, and a timestamp takes twenty of them.)
fn digits(out: &mut String, mut n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    while n > 0 || buf.len() - i < width {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

/// Microseconds as milliseconds with two decimals, rounded half up (`1234` → `1.23`).
fn latency(out: &mut String, us: u128) {
    let us = u64::try_from(us).unwrap_or(u64::MAX - 5);
    let hundredths = (us + 5) / 10;
    digits(out, hundredths / 100, 1);
    out.push('.');
    digits(out, hundredths % 100, 2);
}

/// RFC 3339 in UTC with microseconds, as the formatter writes it: `2026-11-22T00:20:25.202132Z`.
fn timestamp(out: &mut String, (secs, micros): (i64, u32)) {
    let d = Date::from_unix_ms(secs.saturating_mul(1000));
    let of_day = secs.rem_euclid(86_400) as u64;
    digits(out, u64::from(d.year.max(0) as u32), 4);
    out.push('-');
    digits(out, u64::from(d.month), 2);
    out.push('-');
    digits(out, u64::from(d.day), 2);
    out.push('T');
    digits(out, of_day / 3600, 2);
    out.push(':');
    digits(out, of_day % 3600 / 60, 2);
    out.push(':');
    digits(out, of_day % 60, 2);
    out.push('.');
    digits(out, u64::from(micros), 6);
    out.push('Z');
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
            latency_us: 91,
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
    fn lines_wait_for_the_flush_in_order() {
        let log = AccessLog::new(AccessLogFormat::Text);
        assert!(lock(&log.pending).is_empty());
        let mut expected = Vec::new();
        for status in [200, 404] {
            let l = RequestLine { status, ..line() };
            expected.extend_from_slice(render(AccessLogFormat::Text, &l).as_bytes());
            // Without a tracing subscriber INFO is off: add the line the way `record` does.
            lock(&log.pending).extend_from_slice(render(AccessLogFormat::Text, &l).as_bytes());
        }
        assert_eq!(*lock(&log.pending), expected);
        log.flush();
        assert!(lock(&log.pending).is_empty());
    }

    #[test]
    fn latency_rounds_to_hundredths_of_a_millisecond() {
        let ms = |us| {
            let mut out = String::new();
            latency(&mut out, us);
            out
        };
        assert_eq!(ms(0), "0.00");
        assert_eq!(ms(4), "0.00");
        assert_eq!(ms(5), "0.01");
        assert_eq!(ms(1_234), "1.23");
        assert_eq!(ms(1_235), "1.24");
        assert_eq!(ms(123_456_789), "123456.79");
    }

    #[test]
    fn timestamps_before_and_after_leap_days() {
        let ts = |s| {
            let mut out = String::new();
            timestamp(&mut out, (s, 7));
            out
        };
        assert_eq!(ts(0), "1970-01-01T00:00:00.000007Z");
        assert_eq!(ts(951_782_400), "2000-02-29T00:00:00.000007Z");
        assert_eq!(ts(1_709_251_199), "2024-02-29T23:59:59.000007Z");
    }
}
