//! The pages, one module per area. Each handler takes [`crate::Staff`]
//! (the session and its access policy), calls the engine with
//! `staff.ctx`, and answers a [`maud::Markup`] page or a [`crate::WebError`].

pub mod home;
pub mod login;

// Clinical workflows (issue 5): domain logic in `concord-clinical`.
pub mod flows;
pub mod inbox;
pub mod orders;
pub mod schedule;
pub mod visit;
