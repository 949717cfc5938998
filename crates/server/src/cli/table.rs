//! Output for people: aligned columns (bold headers only on a terminal), key/value blocks, and
//! dates; `--json` output is printed as vouch sent it.

use std::io::{IsTerminal, Write};

use serde_json::Value;

/// Columns of text, aligned on the widest cell (counted in characters).
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&'static str]) -> Table {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as lines; `bold` decorates the header row.
    pub fn render(&self, bold: bool) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let line = |cells: &mut dyn Iterator<Item = &str>| {
            let mut out = String::new();
            for (i, cell) in cells.enumerate() {
                if i > 0 {
                    out.push_str("  ");
                }
                out.push_str(cell);
                let pad = widths.get(i).copied().unwrap_or(0);
                out.extend(std::iter::repeat_n(
                    ' ',
                    pad.saturating_sub(cell.chars().count()),
                ));
            }
            out.trim_end().to_owned()
        };
        let header = line(&mut self.headers.iter().copied());
        let mut out = if bold {
            format!("\x1b[1m{header}\x1b[0m\n")
        } else {
            format!("{header}\n")
        };
        for row in &self.rows {
            out.push_str(&line(&mut row.iter().map(String::as_str)));
            out.push('\n');
        }
        out
    }

    /// Prints the table, or a note when it has no rows.
    pub fn print(&self, empty: &str) {
        if self.rows.is_empty() {
            println!("{empty}");
        } else {
            print!("{}", self.render(std::io::stdout().is_terminal()));
        }
        flush();
    }
}

/// `field  value` lines, fields aligned; fields without a value are left out.
pub fn print_fields(fields: &[(&str, String)]) {
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let bold = std::io::stdout().is_terminal();
    let mut out = String::new();
    for (k, v) in fields.iter().filter(|(_, v)| !v.is_empty()) {
        let pad = " ".repeat(width - k.len());
        if bold {
            out.push_str(&format!("\x1b[1m{k}\x1b[0m{pad}  {v}\n"));
        } else {
            out.push_str(&format!("{k}{pad}  {v}\n"));
        }
    }
    print!("{out}");
    flush();
}

/// Pretty JSON, as vouch sent it.
pub fn print_json(v: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
    );
    flush();
}

pub fn flush() {
    let _ = std::io::stdout().flush();
}

/// A string field, or `""` for null / absent.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `2026-09-30 12:34:56` (UTC) of a unix time field; `""` for null.
pub fn date(v: &Value) -> String {
    v.as_i64().map(datetime).unwrap_or_default()
}

/// `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn datetime(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// `HH:MM:SS` (UTC).
pub fn clock(unix: i64) -> String {
    datetime(unix).split_off(11)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_on_the_widest_cell() {
        let mut t = Table::new(&["ID", "STATUS"]);
        t.row(vec!["vs_1".into(), "verified".into()]);
        t.row(vec!["vs_longer".into(), "canceled".into()]);
        assert_eq!(
            t.render(false),
            "ID         STATUS\nvs_1       verified\nvs_longer  canceled\n"
        );
        assert!(t.render(true).starts_with("\x1b[1mID"));
    }

    #[test]
    fn dates_are_utc() {
        assert_eq!(datetime(0), "1970-01-01 00:00:00");
        assert_eq!(datetime(1_700_000_000), "2023-11-14 22:13:20");
        assert_eq!(datetime(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(clock(3_661), "01:01:01");
    }
}
