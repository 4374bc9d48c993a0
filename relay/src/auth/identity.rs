//! Checks who the host page says the visitor is. The site's server proves a user id
//! with the site's secret: an HS256 JWT (`sub`, `exp`, and trusted `name`/`email`),
//! or `hex(HMAC-SHA256(secret, user_id))`. Nothing else is accepted as proof: no
//! other algorithm, no unsigned token, no token for another user.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use porchlight_protocol::{ErrorCode, Identity};
use serde::Deserialize;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Clocks of the site's server and ours may differ this much.
const LEEWAY_MS: i64 = 60_000;

/// What an identity claim turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// No user id: only the other fields (name, context…) are kept.
    Anonymous,
    /// A user id the site did not prove (allowed only while the site does not
    /// require verified identity): this browser only, never another's history.
    Unverified(String),
    /// Proven with the site's secret.
    Verified(Verified),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub user_id: String,
    /// The JWT's trusted `name` and `email`, which win over the page's.
    pub name: Option<String>,
    pub email: Option<String>,
    /// When a JWT stops being good (ms since the epoch); an HMAC never expires.
    pub expires_at: Option<i64>,
}

/// Why a claim was refused: the error frame's code and sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

impl Claim {
    /// The user id, proven or not.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Self::Anonymous => None,
            Self::Unverified(user_id) => Some(user_id),
            Self::Verified(verified) => Some(&verified.user_id),
        }
    }

    /// Still good at `now` (an expired JWT is not).
    pub fn check_live(&self, now_ms: i64) -> Result<(), Refusal> {
        match self {
            Self::Verified(Verified {
                expires_at: Some(at),
                ..
            }) if now_ms > at + LEEWAY_MS => Err(expired()),
            _ => Ok(()),
        }
    }
}

pub fn refused(message: impl Into<String>) -> Refusal {
    Refusal {
        code: ErrorCode::IdentityRefused,
        message: message.into(),
    }
}

fn expired() -> Refusal {
    Refusal {
        code: ErrorCode::IdentityExpired,
        message: "The identity token has expired; the page must identify the visitor again with a fresh one."
            .into(),
    }
}

/// Checks `identity` against the site's `secret`. A token, when given, must be good
/// even where the site does not require one.
pub fn check(
    secret: &str,
    identity: &Identity,
    required: bool,
    now_ms: i64,
) -> Result<Claim, Refusal> {
    identity.check().map_err(refused)?;
    let Some(token) = identity.token.as_deref() else {
        return match (identity.user_id.is_empty(), required) {
            (true, _) => Ok(Claim::Anonymous),
            (false, false) => Ok(Claim::Unverified(identity.user_id.clone())),
            (false, true) => Err(refused(
                "This site requires a token with the user id, made by the site's server with the site's secret (an HS256 JWT, or the HMAC of the user id).",
            )),
        };
    };
    if secret.is_empty() {
        return Err(refused(
            "This site has no secret to check identity tokens with.",
        ));
    }
    let verified = if token.matches('.').count() == 2 {
        jwt(secret, token, now_ms)?
    } else {
        hmac_of_user(secret, &identity.user_id, token)?
    };
    if !identity.user_id.is_empty() && identity.user_id != verified.user_id {
        return Err(refused("The identity token was made for another user."));
    }
    Ok(Claim::Verified(verified))
}

fn hmac_of_user(secret: &str, user_id: &str, token: &str) -> Result<Verified, Refusal> {
    if user_id.is_empty() {
        return Err(refused(
            "An identity hash needs the user id it was made for.",
        ));
    }
    let bytes: Option<Vec<u8>> = (token.len() == 64)
        .then(|| {
            (0..64)
                .step_by(2)
                .map(|at| u8::from_str_radix(token.get(at..at + 2)?, 16).ok())
                .collect()
        })
        .flatten();
    let good =
        bytes.is_some_and(|bytes| mac(secret, user_id.as_bytes()).verify_slice(&bytes).is_ok());
    if !good {
        return Err(refused(
            "The identity hash does not match this user id and site.",
        ));
    }
    Ok(Verified {
        user_id: user_id.to_owned(),
        name: None,
        email: None,
        expires_at: None,
    })
}

fn mac(secret: &str, message: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(message);
    mac
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    exp: Option<i64>,
}

fn jwt(secret: &str, token: &str, now_ms: i64) -> Result<Verified, Refusal> {
    let malformed = || refused("The identity token is not a valid JWT.");
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| malformed());
    let header: Header = serde_json::from_slice(&decode(header)?).map_err(|_| malformed())?;
    if header.alg != "HS256" {
        return Err(refused("Identity tokens must be signed with HS256."));
    }
    let signed = &token[..token.len() - signature.len() - 1];
    if mac(secret, signed.as_bytes())
        .verify_slice(&decode(signature)?)
        .is_err()
    {
        return Err(refused("The identity token's signature is not the site's."));
    }
    let claims: Claims = serde_json::from_slice(&decode(payload)?).map_err(|_| malformed())?;
    let Some(user_id) = claims.sub.or(claims.user_id).filter(|id| !id.is_empty()) else {
        return Err(refused("The identity token has no sub (the user id)."));
    };
    let Some(exp) = claims.exp else {
        return Err(refused(
            "The identity token has no exp: tokens must expire.",
        ));
    };
    let verified = Verified {
        user_id,
        name: claims.name,
        email: claims.email,
        expires_at: Some(exp.saturating_mul(1000)),
    };
    if now_ms > exp.saturating_mul(1000) + LEEWAY_MS {
        return Err(expired());
    }
    Ok(verified)
}

#[cfg(test)]
mod tests;
