//! How the steps' forms show fields and errors: one text field, a field's error, the error
//! summary at the top of a form.

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

pub(super) fn text_field(
    name: &str,
    label: &str,
    hint: &str,
    value: &str,
    error: Option<&String>,
    required: bool,
    kind: &str,
) -> Html {
    let FieldError {
        invalid,
        describedby,
        html: error_html,
    } = field_error(name, error);
    let required = if required { " required" } else { "" };
    Html::trusted(format!(
        "<div class=\"field\"><label for=\"{name}\">{label}</label>\
         <span class=\"hint\" id=\"{name}-hint\">{hint}</span>{error_html}\
         <input type=\"{kind}\" id=\"{name}\" name=\"{name}\" value=\"{}\" \
         aria-describedby=\"{describedby}\" autocomplete=\"off\"{invalid}{required}></div>",
        escape(value)
    ))
}
