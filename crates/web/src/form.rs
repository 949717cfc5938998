//! `application/x-www-form-urlencoded` bodies and query strings, flat (the page's forms have
//! no nesting). The last value of a repeated name wins.

use percent_encoding::percent_decode;

/// Flat name/value pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(input: &[u8]) -> Fields {
        let mut pairs = Vec::new();
        for part in input.split(|&b| b == b'&') {
            if part.is_empty() {
                continue;
            }
            let (name, value) = match part.iter().position(|&b| b == b'=') {
                Some(i) => (&part[..i], &part[i + 1..]),
                None => (part, &b""[..]),
            };
            pairs.push((decode(name), decode(value)));
        }
        Fields(pairs)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value, trimmed, when it is not empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    pub fn set(&mut self, name: &str, value: &str) {
        self.0.retain(|(n, _)| n != name);
        self.0.push((name.to_owned(), value.to_owned()));
    }

    /// Encodes the fields as a query string.
    pub fn encode(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{}={}", encode(n), encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

fn decode(raw: &[u8]) -> String {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_decode(&spaced).decode_utf8_lossy().into_owned()
}

fn encode(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decodes_and_round_trips() {
        let f = Fields::parse(b"a=1&b=x+y%21&a=2&flag&&c=%ZZ");
        assert_eq!(f.get("a"), Some("2"));
        assert_eq!(f.get("b"), Some("x y!"));
        assert_eq!(f.get("flag"), Some(""));
        assert_eq!(f.non_empty("flag"), None);
        assert_eq!(f.get("c"), Some("%ZZ"));
        let mut g = Fields::default();
        g.set("k", "a b&c=d/é");
        assert_eq!(
            Fields::parse(g.encode().as_bytes()).get("k"),
            Some("a b&c=d/é")
        );
        assert!(!g.encode().contains('/'));
    }
}
