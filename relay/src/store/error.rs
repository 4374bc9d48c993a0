//! What can go wrong in the store, in words a handler turns into an answer.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend failed (its own words, for the log).
    #[error("database error: {0}")]
    Backend(String),
    #[error("the conversation does not exist")]
    NotFound,
    #[error("the conversation has ended")]
    ConversationEnded,
    #[error("the agent has not joined this conversation")]
    NotJoined,
    #[error("that name or email is already taken")]
    Duplicate,
    #[error("that would leave no admin")]
    LastAdmin,
    /// Text holding a NUL character, which PostgreSQL's text cannot hold.
    #[error("text with a NUL character cannot be stored")]
    NulInText,
    #[error("the conversation changed while this was being worked out")]
    Conflict,
    #[error("the write batch failed: {0}")]
    Batch(String),
    #[error("the store is closed")]
    Closed,
    #[error("cannot open the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}
