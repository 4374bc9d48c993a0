//! Visitors: made by the widget's first hello, found by their browser's token, and
//! identified by the site (`Porchlight.identify`, the REST API).

use std::collections::BTreeMap;

use async_trait::async_trait;
use porchlight_protocol::{ContextEntry, KnownVisitor};

use super::{SiteId, StoreError, Visitor, VisitorId};

/// What an identify sets on a visitor (the store keeps traits and context as JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityUpdate {
    pub user_id: Option<String>,
    pub verified: bool,
    pub name: Option<String>,
    pub email: Option<String>,
    pub company: Option<String>,
    /// Merged into the visitor's traits.
    pub traits: BTreeMap<String, String>,
    /// Replaces the visitor's context (the page sends all of it); `None` keeps it.
    pub context: Option<BTreeMap<String, ContextEntry>>,
    /// A proven user new to the site, on a browser that belongs to another proven
    /// user, gets a visitor of their own under this (never handed out) token hash.
    pub spare_token_hash: String,
}

impl IdentityUpdate {
    /// The visitor's traits once this update is merged into the `stored` ones, and the
    /// context to store (`None` keeps the stored one), as the store keeps them: JSON.
    pub(crate) fn stored_json(&self, stored: Option<String>) -> (String, Option<String>) {
        let mut merged: BTreeMap<String, String> = super::model::json_or_default(stored);
        merged.extend(self.traits.clone());
        let traits = serde_json::to_string(&merged).unwrap_or_else(|_| "{}".into());
        let context = self
            .context
            .as_ref()
            .map(|context| serde_json::to_string(context).unwrap_or_else(|_| "{}".into()));
        (traits, context)
    }
}

/// Who the visitor is, for the agent's contact panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRow {
    pub visitor_id: VisitorId,
    pub name: String,
    pub verified: bool,
    pub known: KnownVisitor,
}

#[async_trait]
pub trait VisitorStore: Send + Sync {
    async fn create_visitor(
        &self,
        site_id: SiteId,
        token_hash: String,
    ) -> Result<Visitor, StoreError>;

    async fn visitor_by_token(
        &self,
        site_id: SiteId,
        token_hash: &str,
    ) -> Result<Option<Visitor>, StoreError>;

    /// The visitor's browser language, as the widget says it.
    async fn set_visitor_language(
        &self,
        id: VisitorId,
        language: Option<String>,
    ) -> Result<(), StoreError>;

    /// Applies an identify to the visitor on this browser and returns who they are
    /// now. A proven user id already known on the site is that visitor (their other
    /// browser's): this browser's open anonymous chat moves to them if they have
    /// none. A proven user id new to the site upgrades this visitor in place, unless
    /// it already belongs to another proven user (then a new visitor is made).
    async fn identify_visitor(
        &self,
        id: VisitorId,
        update: IdentityUpdate,
    ) -> Result<Visitor, StoreError>;

    /// The site's server identifies a user (the REST API): their proven visitor,
    /// made if the site has none yet, with `update` applied.
    async fn identify_user(
        &self,
        site_id: SiteId,
        update: IdentityUpdate,
    ) -> Result<Visitor, StoreError>;

    /// The visitor as the site described them, for the agent's contact panel.
    async fn contact(&self, id: VisitorId) -> Result<Option<ContactRow>, StoreError>;
}
