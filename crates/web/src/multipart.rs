//! A small, strict `multipart/form-data` parser for the page's upload form (RFC 7578): the
//! whole body is in memory (its size was limited before), at most `MAX_PARTS` parts, header
//! blocks of at most `MAX_HEADER_BYTES`. Anything malformed is an error, never a panic.

pub const MAX_PARTS: usize = 16;
const MAX_HEADER_BYTES: usize = 8 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    pub name: String,
    /// Present for file inputs (empty when no file was chosen).
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultipartError {
    /// More parts than any form of the page has.
    TooManyParts,
    /// The body does not follow the multipart syntax.
    Malformed(&'static str),
}

/// The boundary of a `multipart/form-data` content type; None for any other type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';').unwrap_or((content_type, ""));
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let b = param(params, "boundary")?;
    (!b.is_empty() && b.len() <= 70).then_some(b)
}

/// A `name=value` or `name="value"` parameter of a header value.
fn param(params: &str, wanted: &str) -> Option<String> {
    let mut rest = params;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            return None;
        }
        let eq = rest.find('=')?;
        let name = rest[..eq].trim();
        let after = &rest[eq + 1..];
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, e)) = chars.next() {
                            value.push(e);
                        }
                    }
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end?..])
        } else {
            let end = after.find(';').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        if name.eq_ignore_ascii_case(wanted) {
            return Some(value);
        }
        rest = next;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    let last_start = haystack.len() - needle.len();
    let mut i = 0;
    while i <= last_start {
        match haystack[i..=last_start].iter().position(|&b| b == first) {
            None => return None,
            Some(off) => {
                let at = i + off;
                if &haystack[at..at + needle.len()] == needle {
                    return Some(at);
                }
                i = at + 1;
            }
        }
    }
    None
}

/// Splits `body` into its parts.
pub fn parse<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, MultipartError> {
    let delimiter = format!("--{boundary}");
    let between = format!("\r\n--{boundary}");
    let start = find(body, delimiter.as_bytes()).ok_or(MultipartError::Malformed("no boundary"))?;
    let mut pos = start + delimiter.len();
    let mut parts = Vec::new();
    loop {
        let rest = &body[pos..];
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        // Transport padding after a delimiter, then CRLF.
        let line_end = find(rest, b"\r\n").ok_or(MultipartError::Malformed("delimiter line"))?;
        if !rest[..line_end].iter().all(|&b| b == b' ' || b == b'\t') {
            return Err(MultipartError::Malformed("delimiter line"));
        }
        let headers_start = pos + line_end + 2;
        let rest = &body[headers_start..];
        let headers_end =
            find(rest, b"\r\n\r\n").ok_or(MultipartError::Malformed("part headers"))?;
        if headers_end > MAX_HEADER_BYTES {
            return Err(MultipartError::Malformed("part headers too long"));
        }
        let headers = std::str::from_utf8(&rest[..headers_end])
            .map_err(|_| MultipartError::Malformed("part headers are not UTF-8"))?;
        let data_start = headers_start + headers_end + 4;
        let data_len = find(&body[data_start..], between.as_bytes())
            .ok_or(MultipartError::Malformed("unterminated part"))?;
        let data = &body[data_start..data_start + data_len];
        pos = data_start + data_len + between.len();

        let mut name = None;
        let mut filename = None;
        let mut content_type = None;
        for line in headers.split("\r\n") {
            let (key, value) = line
                .split_once(':')
                .ok_or(MultipartError::Malformed("part header"))?;
            if key.trim().eq_ignore_ascii_case("content-disposition") {
                let (kind, params) = value.split_once(';').unwrap_or((value, ""));
                if !kind.trim().eq_ignore_ascii_case("form-data") {
                    return Err(MultipartError::Malformed("not form-data"));
                }
                name = param(params, "name");
                filename = param(params, "filename");
            } else if key.trim().eq_ignore_ascii_case("content-type") {
                content_type = Some(value.trim().to_owned());
            }
        }
        let name = name.ok_or(MultipartError::Malformed("part without a name"))?;
        if parts.len() == MAX_PARTS {
            return Err(MultipartError::TooManyParts);
        }
        parts.push(Part {
            name,
            filename,
            content_type,
            data,
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const B: &str = "----vouchBoundary7";

    fn body(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut out = b"preamble\r\n".to_vec();
        for (name, file, data) in parts {
            out.extend(format!("--{B}\r\n").as_bytes());
            match file {
                Some(f) => out.extend(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                         Content-Type: image/png\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => out.extend(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            out.extend(*data);
            out.extend(b"\r\n");
        }
        out.extend(format!("--{B}--\r\n").as_bytes());
        out
    }

    #[test]
    fn boundary_from_the_content_type() {
        assert_eq!(
            boundary("multipart/form-data; boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
        assert_eq!(boundary("multipart/form-data"), None);
        assert_eq!(boundary("multipart/form-data; boundary="), None);
    }

    #[test]
    fn parses_fields_and_files_with_binary_data() {
        let png: &[u8] = b"\x89PNG\r\n\x1a\n\r\n--not-the-boundary\r\n";
        let b = body(&[
            ("document_type", None, b"passport"),
            ("front", Some("a \\\"q\\\".png"), png),
            ("back", Some(""), b""),
        ]);
        let parts = parse(&b, B).unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].name, "document_type");
        assert_eq!(parts[0].data, b"passport");
        assert_eq!(parts[0].filename, None);
        assert_eq!(parts[1].filename.as_deref(), Some("a \"q\".png"));
        assert_eq!(parts[1].content_type.as_deref(), Some("image/png"));
        assert_eq!(parts[1].data, png);
        assert_eq!(parts[2].filename.as_deref(), Some(""));
        assert!(parts[2].data.is_empty());
    }

    #[test]
    fn malformed_bodies_are_errors_not_panics() {
        let good = body(&[("a", None, b"1")]);
        for cut in 0..good.len() {
            let _ = parse(&good[..cut], B);
        }
        assert!(parse(b"", B).is_err());
        assert!(parse(b"no boundary at all", B).is_err());
        let unterminated = format!("--{B}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nxx");
        assert!(parse(unterminated.as_bytes(), B).is_err());
        let nameless = format!("--{B}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--{B}--");
        assert!(parse(nameless.as_bytes(), B).is_err());
        let many: Vec<(&str, Option<&str>, &[u8])> =
            (0..=MAX_PARTS).map(|_| ("a", None, &b"1"[..])).collect();
        assert_eq!(parse(&body(&many), B), Err(MultipartError::TooManyParts));
    }
}
