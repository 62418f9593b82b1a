//! `GET /ui/`: the start page — who is signed in and what the role may do.

use maud::{html, Markup};

use crate::layout::page;
use crate::nav::items_for;
use crate::Staff;

pub async fn show(staff: Staff) -> Markup {
    page(
        &staff,
        "Start",
        html! {
            p { "Signed in as " strong { (staff.display_name) } " (" (staff.role.code()) ")." }
            @let items: Vec<_> = items_for(staff.role).collect();
            @if items.is_empty() {
                p { "Your role has no access to patient records in this workspace." }
            } @else {
                ul.cards {
                    @for i in items { li { a href=(i.href) { (i.label) } } }
                }
            }
        },
    )
}
