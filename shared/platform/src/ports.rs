//! What the Queue and Blob ports return when their backend fails.

#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("refused: {0}")]
    Refused(String),
    #[error("backend failed: {0}")]
    Backend(String),
}

pub type PortResult<T> = Result<T, PortError>;
