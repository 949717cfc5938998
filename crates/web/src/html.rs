//! HTML output: one escaping function, a value type that is markup by construction, and the
//! `{{name}}` substitution the embedded templates use.

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Markup that is safe to insert as is: either written by vouch or escaped on the way in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Html(String);

impl Html {
    /// Text from anywhere (user input, metadata, the database): escaped.
    pub fn text(s: &str) -> Html {
        Html(escape(s))
    }

    /// Markup vouch wrote itself (templates, fixed snippets).
    pub fn trusted(s: impl Into<String>) -> Html {
        Html(s.into())
    }

    pub fn push(&mut self, other: Html) {
        self.0.push_str(&other.0);
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Fills `{{name}}` placeholders of a template with markup; a placeholder without a value
/// becomes empty.
pub fn fill(template: &str, vars: &[(&str, &Html)]) -> Html {
    let mut out = String::with_capacity(template.len() + 512);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let name = after[..end].trim();
                if let Some((_, value)) = vars.iter().find(|(k, _)| *k == name) {
                    out.push_str(value.as_str());
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    Html(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_every_html_special_character() {
        assert_eq!(
            escape(r#"<script>alert("x") & 'y'</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
        assert_eq!(escape("plain text é"), "plain text é");
        assert_eq!(escape(""), "");
        assert_eq!(escape("&amp;"), "&amp;amp;");
    }

    #[test]
    fn fill_substitutes_and_never_re_expands_values() {
        let name = Html::text("{{b}} <b>");
        let b = Html::trusted("<i>B</i>");
        let out = fill(
            "a {{ name }} {{b}} {{missing}} {{open",
            &[("name", &name), ("b", &b)],
        );
        assert_eq!(out.as_str(), "a {{b}} &lt;b&gt; <i>B</i>  {{open");
    }
}
