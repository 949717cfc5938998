//! Black-box integration tests: every test starts the real `vouch` binary on a
//! random port with its own temporary SQLite database and talks to it over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;
pub mod mrz;
#[path = "../../../store/tests/support/pg.rs"]
mod pg;
mod png;
mod receiver;

mod auth;
mod cli;
mod concurrency;
mod dashboard;
mod dashboard_audit;
mod dashboard_webhooks;
mod documented;
mod errors;
mod faults;
mod flow;
mod hosted_page;
mod idempotency;
mod lifecycle;
mod links;
mod lists;
mod nodes;
mod openapi;
mod safety;
mod server;
mod sessions_create;
mod sessions_update;
