//! What every function shares: who is calling, how errors look, idempotency,
//! ETags, cursors, config, tracing, and the Queue and Blob ports.

pub mod access;
#[cfg(feature = "dev-tokens")]
pub mod auth;
pub mod aws;
pub mod blob;
pub mod caller;
pub mod caller_record;
pub mod clock;
pub mod config;
pub mod cursor;
pub mod error;
pub mod events;
pub mod extract;
pub mod http;
pub mod idempotency;
pub mod lambda;
pub mod loaders;
pub mod mail;
pub mod openapi;
pub mod period;
pub mod ports;
pub mod queue;
pub mod resource;
pub mod services;
pub mod telemetry;
pub mod tx;

pub use caller::Caller;
pub use error::{ApiError, ApiResult, Conflict};
pub use services::Services;
pub use tx::{Fails, Tx, TxError};
