//! Persistence: the Table port, its two adapters, and the one module that builds keys.

pub mod audit;
pub mod counting;
pub mod dynamo;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod keys;
pub mod record;
pub mod records;
pub mod table;

pub use dynamo::DynamoTable;
#[cfg(feature = "embedded")]
pub use embedded::EmbeddedTable;
pub use table::*;
