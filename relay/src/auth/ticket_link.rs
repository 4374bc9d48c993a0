//! Links from a site's page to one of its tickets: `data-ticket="42"` and
//! `data-ticket-token` on the script tag, where the token is
//! `hex(HMAC-SHA256(site secret, "ticket:42"))`, computed by the site's own server.
//! Nobody without the secret can attach a chat to someone else's ticket.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str, ticket: i64) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(format!("ticket:{ticket}").as_bytes());
    Some(mac)
}

/// The token for `ticket` (what the site's server computes).
pub fn token(secret: &str, ticket: i64) -> String {
    mac(secret, ticket)
        .map(|mac| {
            mac.finalize()
                .into_bytes()
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `token` is the site's token for `ticket` (compared in constant time).
pub fn verify(secret: &str, ticket: i64, token: &str) -> bool {
    if secret.is_empty() || token.len() != 64 {
        return false;
    }
    let bytes: Option<Vec<u8>> = (0..64)
        .step_by(2)
        .map(|at| u8::from_str_radix(token.get(at..at + 2)?, 16).ok())
        .collect();
    match (bytes, mac(secret, ticket)) {
        (Some(bytes), Some(mac)) => mac.verify_slice(&bytes).is_ok(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_sites_secret_makes_a_valid_token_for_that_ticket() {
        let secret = "s3cret";
        let good = token(secret, 42);
        assert_eq!(good.len(), 64);
        assert!(verify(secret, 42, &good));
        assert!(
            verify(secret, 42, &good.to_uppercase()),
            "hex in either case"
        );
        assert!(!verify(secret, 43, &good), "another ticket");
        assert!(!verify("other", 42, &good), "another site's secret");
        assert!(!verify(secret, 42, &token("other", 42)));
        assert!(!verify(secret, 42, "not hex"));
        assert!(!verify("", 42, &token("", 42)), "no secret, no link");
    }

    #[test]
    fn the_token_is_standard_hmac_sha256() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = HmacSha256::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
