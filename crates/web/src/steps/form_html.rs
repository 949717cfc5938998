//! How the steps' forms show fields and errors: text, date, multi-line and choice fields, a
//! field's error, the error summary at the top of a form.

use crate::html::{escape, Html};

/// How a field shows its error: `aria-invalid`, the ids that describe it, the message.
pub(super) struct FieldError {
    pub invalid: &'static str,
    pub describedby: String,
    pub html: String,
}

pub(super) fn field_error(name: &str, error: Option<&String>) -> FieldError {
    match error {
        Some(m) => FieldError {
            invalid: " aria-invalid=\"true\"",
            describedby: format!("{name}-hint {name}-error"),
            html: format!(
                "<span class=\"error-text\" id=\"{name}-error\">{}</span>",
                escape(m)
            ),
        },
        None => FieldError {
            invalid: "",
            describedby: format!("{name}-hint"),
            html: String::new(),
        },
    }
}

/// An error summary at the top of a form, each error linking to its field.
pub(super) fn error_summary(errors: &[(&str, String)]) -> Html {
    if errors.is_empty() {
        return Html::default();
    }
    let mut out = Html::trusted(
        "<div class=\"errors\" role=\"alert\" tabindex=\"-1\" id=\"errors\">\
         <h2>There is a problem</h2><ul>",
    );
    for (field, message) in errors {
        out.push(Html::trusted(format!(
            "<li><a href=\"#{}\">{}</a></li>",
            escape(field),
            escape(message)
        )));
    }
    out.push(Html::trusted("</ul></div>"));
    out
}

/// One labelled field: the label, its hint, its error, then the control `control` renders
/// from the attributes every control carries (id, name, `aria-describedby`, `aria-invalid`,
/// `required`). `label` and `hint` are the page's own text.
fn field(
    name: &str,
    label: &str,
    hint: &str,
    error: Option<&String>,
    required: bool,
    control: impl FnOnce(&str) -> String,
) -> Html {
    let FieldError {
        invalid,
        describedby,
        html: error_html,
    } = field_error(name, error);
    let required = if required { " required" } else { "" };
    let attrs = format!(
        "id=\"{name}\" name=\"{name}\" aria-describedby=\"{describedby}\"{invalid}{required}"
    );
    Html::trusted(format!(
        "<div class=\"field\"><label for=\"{name}\">{label}</label>\
         <span class=\"hint\" id=\"{name}-hint\">{hint}</span>{error_html}{}</div>",
        control(&attrs)
    ))
}

pub(super) fn text_field(
    name: &str,
    label: &str,
    hint: &str,
    value: &str,
    error: Option<&String>,
    required: bool,
    kind: &str,
) -> Html {
    field(name, label, hint, error, required, |attrs| {
        format!(
            "<input type=\"{kind}\" {attrs} value=\"{}\" autocomplete=\"off\">",
            escape(value)
        )
    })
}

/// A multi-line field (the machine-readable zone), monospaced, `rows` lines high.
pub(super) fn textarea_field(
    name: &str,
    label: &str,
    hint: &str,
    value: &str,
    error: Option<&String>,
    rows: usize,
) -> Html {
    field(name, label, hint, error, false, |attrs| {
        format!(
            "<textarea class=\"mrz\" {attrs} rows=\"{rows}\" autocomplete=\"off\" \
             autocapitalize=\"characters\" spellcheck=\"false\">{}</textarea>",
            escape(value)
        )
    })
}

/// A choice among `options` (value, label); an empty first option asks the user to choose.
pub(super) fn select_field(
    name: &str,
    label: &str,
    hint: &str,
    options: &[(&str, &str)],
    value: &str,
    error: Option<&String>,
    required: bool,
) -> Html {
    field(name, label, hint, error, required, |attrs| {
        let mut out = format!("<select {attrs}><option value=\"\">Choose…</option>");
        for (v, l) in options {
            let selected = if *v == value { " selected" } else { "" };
            out.push_str(&format!(
                "<option value=\"{}\"{selected}>{}</option>",
                escape(v),
                escape(l)
            ));
        }
        out.push_str("</select>");
        out
    })
}
