//! Who the visitor is, as the host page says (`identity` in the hello, or the
//! `identify` frame mid-session), checked against the site's secret. A proven
//! visitor's chats are shown only with a live proof: the claim is kept and checked
//! again before every later action on the socket.

use porchlight_protocol::{ErrorCode, Identity, IdentityText};

use super::{VisitorSession, error};
use crate::auth::identity::{self, Claim, Refusal};
use crate::auth::{random_token, token_hash};
use crate::chat::events::announce_conversation;
use crate::store::{IdentityUpdate, Site, StoreError, Visitor, now_ms};
use crate::ws::socket::Outcome;

impl VisitorSession {
    /// At hello: the visitor the page's claim makes them. Without a proof, a proven
    /// user's browser starts over as someone new (they signed out on the site).
    pub(super) async fn identity_at_hello(
        &mut self,
        site: &Site,
        token: String,
        visitor: Visitor,
        identity: Option<IdentityText>,
    ) -> Result<(String, Visitor), Outcome> {
        let checked = match &identity {
            Some(identity) => Some(
                check(site, identity).map_err(|refusal| Outcome::fatal(refusal_frame(&refusal)))?,
            ),
            None => None,
        };
        let proven = matches!(checked, Some((_, Claim::Verified(_))));
        let (token, visitor) = if visitor.verified && !proven {
            let token = random_token();
            let visitor = self
                .state
                .store
                .create_visitor(site.id, token_hash(&token))
                .await
                .map_err(|err| Self::fail(&err))?;
            (token, visitor)
        } else {
            (token, visitor)
        };
        let (visitor, claim) = match checked {
            Some((identity, claim)) => (
                self.apply(&visitor, identity, &claim)
                    .await
                    .map_err(|err| Self::fail(&err))?,
                Some(claim),
            ),
            None => (visitor, None),
        };
        self.claim = claim;
        Ok((token, visitor))
    }

    /// The `identify` frame: upgrades this visitor in place, or (for a proven user
    /// the site already knows) switches the socket to them with a new welcome.
    pub(super) async fn identify(&mut self, identity: IdentityText) -> Outcome {
        let Some((site, visitor)) = self.visitor.clone() else {
            return Outcome::reply(error(
                ErrorCode::HelloRequired,
                "Send hello before identify.",
            ));
        };
        let (identity, claim) = match check(&site, &identity) {
            Ok(checked) => checked,
            Err(refusal) => return Outcome::reply(refusal_frame(&refusal)),
        };
        if visitor.verified && !matches!(claim, Claim::Verified(_)) {
            return Outcome::reply(error(
                ErrorCode::IdentityRefused,
                "This visitor was identified with a token: identify them with a token again, or reload the page to chat anonymously.",
            ));
        }
        let now = match self.apply(&visitor, identity, &claim).await {
            Ok(now) => now,
            Err(err) => return Self::fail(&err),
        };
        self.claim = Some(claim);
        let switched = now.id != visitor.id;
        self.visitor = Some((site, now.clone()));
        if switched {
            if let Some(old) = self.conversation.take() {
                self.state.hub.unfollow(self.conn, old);
            }
            let outcome = match self.rewelcome(&now).await {
                Ok(replies) => Outcome {
                    replies,
                    close: false,
                },
                Err(outcome) => outcome,
            };
            self.announce_current().await;
            return outcome;
        }
        self.announce_current().await;
        Outcome::default()
    }

    /// The agents see who the visitor now is in the chat at once (a chat moved to
    /// the user they proved they are, too).
    async fn announce_current(&self) {
        if let Some(id) = self.conversation
            && let Ok(Some(conversation)) = self.state.store.conversation(id).await
        {
            announce_conversation(&self.state.hub, &conversation);
        }
    }

    /// Refuses any action once the proof the visitor gave has expired.
    pub(super) fn claim_still_good(&self) -> Result<(), String> {
        match &self.claim {
            Some(claim) => claim
                .check_live(now_ms())
                .map_err(|refusal| refusal_frame(&refusal)),
            None => Ok(()),
        }
    }

    /// Stores what the page said, with the proven user id and the token's trusted
    /// name and email.
    async fn apply(
        &self,
        visitor: &Visitor,
        identity: Identity,
        claim: &Claim,
    ) -> Result<Visitor, StoreError> {
        let (user_id, verified, name, email) = match claim {
            Claim::Anonymous => (None, false, identity.name, identity.email),
            Claim::Unverified(user_id) => {
                (Some(user_id.clone()), false, identity.name, identity.email)
            }
            Claim::Verified(proof) => (
                Some(proof.user_id.clone()),
                true,
                proof.name.clone().or(identity.name),
                proof.email.clone().or(identity.email),
            ),
        };
        let non_blank = |text: Option<String>| {
            text.map(|text| text.trim().to_owned())
                .filter(|text| !text.is_empty())
        };
        self.state
            .store
            .identify_visitor(
                visitor.id,
                IdentityUpdate {
                    user_id,
                    verified,
                    name: non_blank(name),
                    email: non_blank(email),
                    company: non_blank(identity.company),
                    traits: identity.traits,
                    context: Some(identity.context),
                    spare_token_hash: token_hash(&random_token()),
                },
            )
            .await
    }
}

/// The page's identity, read and checked against the site's secret.
fn check(site: &Site, text: &IdentityText) -> Result<(Identity, Claim), Refusal> {
    let identity = text.read().map_err(identity::refused)?;
    let claim = identity::check(
        &site.secret,
        &identity,
        site.require_verified_identity,
        now_ms(),
    )?;
    Ok((identity, claim))
}

fn refusal_frame(refusal: &Refusal) -> String {
    error(refusal.code, &refusal.message)
}
