//! The tokens here were made with Python's `hmac` and `base64`, not with this code.

use super::*;

const SECRET: &str = "site-secret";
/// sub user-42, name "Ana Lima", email ana@example.com, exp 2100-01-01.
const GOOD_JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwibmFtZSI6IkFuYSBMaW1hIiwiZW1haWwiOiJhbmFAZXhhbXBsZS5jb20iLCJleHAiOjQxMDI0NDQ4MDB9.0LlRA91Zr4QvmRZfMKBlDxTyHYPng_iBBEw2rWzD2BE";
/// sub user-42, exp 2023-11-14.
const EXPIRED_JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwiZXhwIjoxNzAwMDAwMDAwfQ.q92h9hSesw2gcV9OUpmGYusylLIf6X0ipPKnndP3Ocg";
const GOOD_HASH: &str = "360ea68ccc98e76abe82ace2ab09553dc9a0814b9df79c2e0d396877aca6aa72";
const NOW: i64 = 1_800_000_000_000;

fn identity(user_id: &str, token: Option<&str>) -> Identity {
    Identity {
        user_id: user_id.into(),
        token: token.map(Into::into),
        ..Identity::default()
    }
}

fn code(result: Result<Claim, Refusal>) -> ErrorCode {
    result.expect_err("refused").code
}

#[test]
fn a_jwt_signed_with_the_sites_secret_proves_its_subject_and_names_them() {
    let claim = check(SECRET, &identity("", Some(GOOD_JWT)), true, NOW).unwrap();
    let Claim::Verified(verified) = claim else {
        panic!("verified");
    };
    assert_eq!(verified.user_id, "user-42");
    assert_eq!(verified.name.as_deref(), Some("Ana Lima"));
    assert_eq!(verified.email.as_deref(), Some("ana@example.com"));
    assert_eq!(verified.expires_at, Some(4_102_444_800_000));
    assert!(check(SECRET, &identity("user-42", Some(GOOD_JWT)), true, NOW).is_ok());
}

#[test]
fn forged_expired_and_borrowed_jwts_are_refused() {
    assert_eq!(
        code(check(
            "other-secret",
            &identity("", Some(GOOD_JWT)),
            true,
            NOW
        )),
        ErrorCode::IdentityRefused
    );
    let mut tampered = GOOD_JWT.to_owned();
    tampered.replace_range(40..41, "X");
    assert_eq!(
        code(check(SECRET, &identity("", Some(&tampered)), true, NOW)),
        ErrorCode::IdentityRefused
    );
    assert_eq!(
        code(check(SECRET, &identity("", Some(EXPIRED_JWT)), true, NOW)),
        ErrorCode::IdentityExpired
    );
    assert_eq!(
        code(check(
            SECRET,
            &identity("user-7", Some(GOOD_JWT)),
            true,
            NOW
        )),
        ErrorCode::IdentityRefused,
        "a token for user-42 does not prove user-7"
    );
    // alg "none" with no signature, claiming user-42.
    let unsigned = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyLTQyIiwiZXhwIjo0MTAyNDQ0ODAwfQ.";
    assert_eq!(
        code(check(SECRET, &identity("", Some(unsigned)), true, NOW)),
        ErrorCode::IdentityRefused
    );
    assert_eq!(
        code(check(SECRET, &identity("", Some("a.b.c")), false, NOW)),
        ErrorCode::IdentityRefused,
        "a bad token is refused even where none is required"
    );
}

#[test]
fn a_verified_jwt_expires_while_the_session_goes_on() {
    let claim = check(SECRET, &identity("", Some(GOOD_JWT)), true, NOW).unwrap();
    assert!(claim.check_live(4_102_444_800_000).is_ok());
    assert!(
        claim.check_live(4_102_444_800_000 + LEEWAY_MS).is_ok(),
        "within the leeway"
    );
    assert_eq!(
        claim.check_live(4_102_444_800_000 + LEEWAY_MS + 1),
        Err(expired())
    );
}

#[test]
fn an_hmac_of_the_user_id_proves_that_user_only() {
    let claim = check(SECRET, &identity("user-42", Some(GOOD_HASH)), true, NOW).unwrap();
    assert_eq!(claim.user_id(), Some("user-42"));
    assert!(matches!(
        claim,
        Claim::Verified(Verified {
            expires_at: None,
            ..
        })
    ));
    assert!(
        check(
            SECRET,
            &identity("user-42", Some(&GOOD_HASH.to_uppercase())),
            true,
            NOW
        )
        .is_ok()
    );
    for (user, token) in [
        ("user-43", GOOD_HASH),
        ("", GOOD_HASH),
        ("user-42", "00"),
        ("user-42", &GOOD_HASH[..63]),
    ] {
        assert_eq!(
            code(check(SECRET, &identity(user, Some(token)), true, NOW)),
            ErrorCode::IdentityRefused,
            "{user} {token}"
        );
    }
    assert_eq!(
        code(check(
            "other",
            &identity("user-42", Some(GOOD_HASH)),
            true,
            NOW
        )),
        ErrorCode::IdentityRefused
    );
}

#[test]
fn without_a_token_a_user_id_counts_only_where_the_site_allows_it() {
    assert_eq!(
        check(SECRET, &identity("user-42", None), false, NOW),
        Ok(Claim::Unverified("user-42".into()))
    );
    assert_eq!(
        code(check(SECRET, &identity("user-42", None), true, NOW)),
        ErrorCode::IdentityRefused
    );
    assert_eq!(
        check(SECRET, &identity("", None), true, NOW),
        Ok(Claim::Anonymous)
    );
}
