//! Webhook delivery: Stripe's signature scheme and the outbox worker that drains the store's
//! pending deliveries. The worker is stepped by `tick` (tests call it directly) and run in a
//! loop by the server.

pub mod sign;
pub mod worker;

pub use worker::{Now, Render, Worker, WorkerConfig};
