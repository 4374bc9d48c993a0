//! The Sites admin page: each site's settings, and the tag that embeds its chat.

use serde::{Deserialize, Serialize};

/// A site as an admin sees it (`GET /api/admin/sites`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SiteView {
    /// The site's `data-site` key; fixed once created.
    pub key: String,
    pub name: String,
    /// Origins that may embed the chat (`https://shop.example.com`, `https://*.example.com`,
    /// or `*`), besides the relay's own.
    pub allowed_origins: Vec<String>,
    /// The chat profile new chats on the site use.
    pub profile_id: Option<i64>,
    /// Days after which ended chats and their files are deleted; `None` keeps them.
    pub retention_days: Option<u32>,
    /// Signs the site's links to tickets and its visitors' identity tokens; for the
    /// site's server only.
    pub secret: String,
    /// A visitor's user id counts only with a token made with `secret`.
    #[serde(default)]
    pub require_verified_identity: bool,
    /// The `<script>` tag to paste into the site's pages.
    pub embed: String,
}

/// `POST /api/admin/sites`: a new site, with a copy of the default chat profile.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct NewSite {
    /// 1 to 40 of `a-z`, `0-9` and `-`, starting with a letter or digit.
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

/// `PUT /api/admin/sites/{key}`: what an admin may change.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SiteForm {
    pub name: String,
    pub allowed_origins: Vec<String>,
    /// One of the site's own profiles.
    pub profile_id: Option<i64>,
    /// 1 to 3650 days, or `None` to keep ended chats.
    pub retention_days: Option<u32>,
    /// Refuse `Porchlight.identify` without a token signed with the site's secret.
    #[serde(default)]
    pub require_verified_identity: bool,
}
