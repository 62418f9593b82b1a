//! Forms: the parsed body ([`Form`], an extractor) and accessible field
//! helpers — every input has a `<label>`, hints and errors are tied to the
//! input with `aria-describedby`, invalid fields get `aria-invalid`.
//! Every form needs [`csrf_field`] (the router refuses POSTs without it).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use maud::{html, Markup};

use crate::error::WebError;
use crate::{csrf, Staff};

/// A submitted `application/x-www-form-urlencoded` body.
#[derive(Debug, Clone, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        Form(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// A field's value, trimmed; `None` when missing or blank.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// A field's value, or "" (to refill a form).
    pub fn value(&self, name: &str) -> String {
        self.get(name).unwrap_or_default()
    }

    /// A required field, or a readable error naming its label.
    pub fn required(&self, name: &str, label: &str) -> Result<String, String> {
        self.get(name)
            .ok_or_else(|| format!("{label} is required."))
    }

    /// Every value of a repeated field.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Form, WebError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| WebError::BadRequest("The form could not be read.".into()))?;
        Ok(Form::parse(&bytes))
    }
}

/// The hidden CSRF field every form must carry.
pub fn csrf_field(staff: &Staff) -> Markup {
    html! { input type="hidden" name=(csrf::FIELD) value=(staff.csrf); }
}

/// One input: its type, hint, error and constraints.
#[derive(Debug, Clone, Default)]
pub struct Field<'a> {
    pub name: &'a str,
    pub label: &'a str,
    pub value: &'a str,
    /// `text` (default), `date`, `number`, `tel`, `password`, `search`, …
    pub kind: &'a str,
    pub required: bool,
    pub hint: Option<&'a str>,
    pub error: Option<&'a str>,
    pub autocomplete: Option<&'a str>,
    /// For numbers: `step`, `min`, `max` attributes.
    pub step: Option<&'a str>,
    pub min: Option<&'a str>,
    pub max: Option<&'a str>,
    pub inputmode: Option<&'a str>,
}

impl<'a> Field<'a> {
    pub fn new(name: &'a str, label: &'a str) -> Field<'a> {
        Field {
            name,
            label,
            kind: "text",
            ..Field::default()
        }
    }
    pub fn value(mut self, v: &'a str) -> Self {
        self.value = v;
        self
    }
    pub fn kind(mut self, k: &'a str) -> Self {
        self.kind = k;
        self
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn hint(mut self, h: &'a str) -> Self {
        self.hint = Some(h);
        self
    }
    pub fn error(mut self, e: Option<&'a str>) -> Self {
        self.error = e;
        self
    }
    pub fn autocomplete(mut self, a: &'a str) -> Self {
        self.autocomplete = Some(a);
        self
    }
    pub fn step(mut self, s: &'a str) -> Self {
        self.step = Some(s);
        self
    }
    pub fn inputmode(mut self, m: &'a str) -> Self {
        self.inputmode = Some(m);
        self
    }

    /// The labelled input.
    pub fn render(&self) -> Markup {
        let id = format!("f-{}", self.name);
        let hint_id = format!("{id}-hint");
        let err_id = format!("{id}-error");
        let mut described = Vec::new();
        if self.hint.is_some() {
            described.push(hint_id.clone());
        }
        if self.error.is_some() {
            described.push(err_id.clone());
        }
        let described = described.join(" ");
        html! {
            div.field.invalid[self.error.is_some()] {
                label for=(id) {
                    (self.label)
                    @if self.required { span.req aria-hidden="true" { " *" } }
                }
                @if let Some(h) = self.hint { span.hint id=(hint_id) { (h) } }
                @if let Some(e) = self.error { span.error id=(err_id) { (e) } }
                input id=(id) name=(self.name) type=(self.kind) value=(self.value)
                    required[self.required]
                    aria-invalid=[self.error.map(|_| "true")]
                    aria-describedby=[(!described.is_empty()).then_some(described.as_str())]
                    autocomplete=[self.autocomplete]
                    step=[self.step] min=[self.min] max=[self.max]
                    inputmode=[self.inputmode];
            }
        }
    }
}

/// A labelled `<select>`: `options` are `(value, label)`.
pub fn select(
    name: &str,
    label: &str,
    options: &[(&str, &str)],
    selected: &str,
    required: bool,
) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            label for=(id) {
                (label)
                @if required { span.req aria-hidden="true" { " *" } }
            }
            select id=(id) name=(name) required[required] {
                @for (v, l) in options {
                    option value=(v) selected[*v == selected] { (l) }
                }
            }
        }
    }
}

/// A labelled `<textarea>`.
pub fn textarea(name: &str, label: &str, value: &str, rows: u32) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            label for=(id) { (label) }
            textarea id=(id) name=(name) rows=(rows) { (value) }
        }
    }
}

/// The list of problems at the top of a refused form.
pub fn error_summary(errors: &[String]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.alert.error role="alert" tabindex="-1" {
                p { strong { "Not saved. Please correct:" } }
                ul { @for e in errors { li { (e) } } }
            }
        }
    }
}
