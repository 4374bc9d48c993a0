//! Keys for the site's own servers (the REST API under `/api/v1`): made by an admin,
//! shown once, stored as a hash, scoped, revocable.

use async_trait::async_trait;

use super::{SiteId, StoreError};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyScope {
    Read,
    ReadWrite,
}

impl KeyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::ReadWrite => "read_write",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "read" => Some(Self::Read),
            "read_write" => Some(Self::ReadWrite),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRow {
    pub id: i64,
    pub site_id: SiteId,
    pub name: String,
    /// The key's first characters, to tell keys apart in the console.
    pub prefix: String,
    pub scope: KeyScope,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A key to store: everything but the key itself, which only its maker sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub site_id: SiteId,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub scope: KeyScope,
}

#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    async fn create_api_key(&self, new: NewApiKey) -> Result<ApiKeyRow, StoreError>;

    /// The site's keys, revoked ones included, newest first.
    async fn api_keys(&self, site_id: SiteId) -> Result<Vec<ApiKeyRow>, StoreError>;

    /// `NotFound` unless the key is the site's.
    async fn revoke_api_key(&self, site_id: SiteId, id: i64) -> Result<ApiKeyRow, StoreError>;

    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKeyRow>, StoreError>;

    /// Notes that the key was used at `now`.
    async fn touch_api_key(&self, id: i64, now: i64) -> Result<(), StoreError>;
}
