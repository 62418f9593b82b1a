//! The page frame: skip link, header with the user and sign-out, the
//! role-aware menu ([`crate::nav`]), the main region and flash messages.
//! [`page`] for signed-in pages, [`bare_page`] for sign-in and errors.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::form::csrf_field;
use crate::nav::items_for;
use crate::{paths, Staff};

/// The document head; [`document`] wraps it with the `<html lang>` root.
fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Concord" }
            link rel="stylesheet" href=(paths::STATIC_CSS);
        }
    }
}

/// `<!DOCTYPE html><html lang="en">` around the head and `body` (the
/// page's language for screen readers, WCAG 3.1.1).
fn document(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            (body)
        }
    }
}

/// A signed-in page: `title` is the `<h1>` and the window title.
pub fn page(staff: &Staff, title: &str, body: Markup) -> Markup {
    page_with(staff, title, None, body)
}

/// A signed-in page with a notice above the content (e.g. "Saved.").
pub fn page_with(staff: &Staff, title: &str, notice: Option<&str>, body: Markup) -> Markup {
    document(
        title,
        html! {
        body {
            a.skip href="#main" { "Skip to content" }
            header.top {
                a.brand href=(paths::HOME) { "Concord" }
                nav aria-label="Main" {
                    ul {
                        @for item in items_for(staff.role) {
                            li { a href=(item.href) { (item.label) } }
                        }
                    }
                }
                div.user {
                    span { (staff.display_name) " · " (staff.role.code()) }
                    form method="post" action=(paths::LOGOUT) {
                        (csrf_field(staff))
                        button.link type="submit" { "Sign out" }
                    }
                }
            }
            main #main tabindex="-1" {
                h1 { (title) }
                @if let Some(n) = notice {
                    div.alert.ok role="status" { (n) }
                }
                (body)
            }
        }
        },
    )
}

/// A page without the menu (sign-in, errors).
pub fn bare_page(title: &str, body: Markup) -> Markup {
    document(
        title,
        html! {
        body.bare {
            main #main {
                p.brand { "Concord" }
                h1 { (title) }
                (body)
            }
        }
        },
    )
}

/// Raw, already-safe markup (an SVG built by [`crate::svg`]).
pub fn trusted(markup: String) -> PreEscaped<String> {
    PreEscaped(markup)
}
