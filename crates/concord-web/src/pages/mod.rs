//! The pages, one module per area. Each handler takes [`crate::Staff`]
//! (the session and its access policy), calls the engine with
//! `staff.ctx` (through [`crate::data`]), and answers a [`maud::Markup`]
//! page or a [`crate::WebError`].

pub mod chart;
pub mod home;
pub mod labs;
pub mod lists;
pub mod login;
pub mod patients;
pub mod vitals;

// Clinical workflows (issue 5): domain logic in `concord-clinical`.
pub mod flows;
pub mod inbox;
pub mod messages;
pub mod orders;
pub mod schedule;
pub mod tasks;
pub mod visit;
