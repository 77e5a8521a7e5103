//! socdeck: a terminal SOC console for MDR analysts watching VMware Carbon Black Cloud tenants.
//!
//! The crate is a library plus a thin binary so integration tests reach every part.

pub mod app;
pub mod calendar;
pub mod cbc;
pub mod commands;
pub mod config;
pub mod deliver;
pub mod effects;
pub mod investigate;
pub mod journal;
pub mod notify;
pub mod runtime;
pub mod sender;
pub mod sim;
pub mod sla;
pub mod text;
pub mod ui;
