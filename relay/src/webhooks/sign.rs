//! Standard Webhooks signatures: `webhook-signature` is `v1,` and the base64
//! HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the secret's
//! bytes (`whsec_` + base64). During a rotation both secrets sign, space-separated.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::auth::random_bytes;

const SECRET_PREFIX: &str = "whsec_";

/// A new secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(random_bytes::<32>()))
}

/// `v1,<base64>` for one secret; `None` when the secret is not `whsec_` + base64.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The three headers for a request, signed with each of `secrets`.
pub fn headers(
    secrets: &[String],
    id: &str,
    timestamp: i64,
    body: &str,
) -> [(&'static str, String); 3] {
    let signatures: Vec<String> = secrets
        .iter()
        .filter_map(|secret| signature(secret, id, timestamp, body))
        .collect();
    [
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signatures.join(" ")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_specifications_example() {
        // The example in the Standard Webhooks specification's reference libraries.
        let signed = signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(
            signed.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn a_rotation_signs_with_both_secrets_and_a_bad_secret_signs_nothing() {
        let (old, new) = (new_secret(), new_secret());
        assert!(new.starts_with("whsec_") && new != old);
        let [_, _, (_, both)] = headers(&[new.clone(), old.clone()], "msg_1", 5, "{}");
        let expected = [
            signature(&new, "msg_1", 5, "{}").unwrap(),
            signature(&old, "msg_1", 5, "{}").unwrap(),
        ];
        assert_eq!(both, expected.join(" "));
        assert_eq!(signature("whsec_not base64!", "msg_1", 5, "{}"), None);
    }
}
