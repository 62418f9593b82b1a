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
