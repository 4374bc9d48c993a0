//! Logging in, tried as an attacker would: wrong passwords in a row, for one account
//! and across many from one address (also with a forged `X-Forwarded-For`), and the
//! session cookie's `Secure` flag, which only https (or a trusted proxy saying so)
//! earns.

mod common;

use common::{TestRelay, header, http, start, start_configured};

async fn log_in(
    relay: &TestRelay,
    email: &str,
    password: &str,
    extra: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, String) {
    let mut headers = vec![("Content-Type", "application/json")];
    headers.extend_from_slice(extra);
    let body = serde_json::json!({"email": email, "password": password}).to_string();
    http(relay.addr, "POST", "/api/login", &headers, &body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_for_an_account_earn_waits_in_which_even_the_right_one_is_refused() {
    let relay = start().await;
    let admin = relay.admin().clone();
    for attempt in 1..=6 {
        let (status, _, body) = log_in(&relay, &admin.email, "guess", &[]).await;
        assert_eq!(status, 401, "attempt {attempt}: {body}");
    }
    // The sixth earned a wait: no password is tried in it, the right one neither.
    let (status, headers, body) = log_in(&relay, &admin.email, &admin.password, &[]).await;
    assert_eq!(status, 429, "{body}");
    assert!(
        body.contains("Too many wrong passwords; try again in "),
        "{body}"
    );
    assert!(header(&headers, "set-cookie").is_none());
    // The same account in other letters is the same account.
    let (status, _, _) = log_in(&relay, &admin.email.to_uppercase(), &admin.password, &[]).await;
    assert_eq!(status, 429);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_guessing_across_accounts_is_slowed_down_whatever_it_forwards() {
    let relay = start().await;
    for n in 0..21 {
        // A forged X-Forwarded-For from a peer that is no trusted proxy changes nothing.
        let forged = format!("198.51.100.{n}");
        let (status, _, _) = log_in(
            &relay,
            &format!("user{n}@example.com"),
            "guess",
            &[("X-Forwarded-For", &forged)],
        )
        .await;
        assert_eq!(status, 401, "attempt {n}");
    }
    let admin = relay.admin().clone();
    let (status, _, body) = log_in(&relay, &admin.email, &admin.password, &[]).await;
    assert_eq!(status, 429, "the address must wait: {body}");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cookie_is_secure_over_https_only() {
    let plain = start().await;
    let admin = plain.admin().clone();
    let (status, headers, _) = log_in(&plain, &admin.email, &admin.password, &[]).await;
    assert_eq!(status, 200);
    assert!(!header(&headers, "set-cookie").unwrap().contains("Secure"));
    // A stranger saying "https" is not believed.
    let (_, headers, _) = log_in(
        &plain,
        &admin.email,
        &admin.password,
        &[("X-Forwarded-Proto", "https")],
    )
    .await;
    assert!(!header(&headers, "set-cookie").unwrap().contains("Secure"));
    plain.stop().await;

    let public = start_configured(tempfile::tempdir().unwrap(), |config| {
        config.public_url = Some("https://chat.example.com".into());
    })
    .await;
    let admin = public.admin().clone();
    let (_, headers, _) = log_in(&public, &admin.email, &admin.password, &[]).await;
    assert!(header(&headers, "set-cookie").unwrap().contains("; Secure"));
    public.stop().await;

    let proxied = start_configured(tempfile::tempdir().unwrap(), |config| {
        config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let admin = proxied.admin().clone();
    let (_, headers, _) = log_in(
        &proxied,
        &admin.email,
        &admin.password,
        &[("X-Forwarded-Proto", "https")],
    )
    .await;
    assert!(header(&headers, "set-cookie").unwrap().contains("; Secure"));
    let (_, headers, _) = log_in(&proxied, &admin.email, &admin.password, &[]).await;
    assert!(!header(&headers, "set-cookie").unwrap().contains("Secure"));
    proxied.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_client_address_has_its_own_allowance() {
    let relay = start_configured(tempfile::tempdir().unwrap(), |config| {
        config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    for n in 0..21 {
        let (status, _, _) = log_in(
            &relay,
            &format!("user{n}@example.com"),
            "guess",
            &[("X-Forwarded-For", "203.0.113.5")],
        )
        .await;
        assert_eq!(status, 401);
    }
    let admin = relay.admin().clone();
    let (status, _, _) = log_in(
        &relay,
        &admin.email,
        &admin.password,
        &[("X-Forwarded-For", "203.0.113.5")],
    )
    .await;
    assert_eq!(status, 429, "that client must wait");
    let (status, _, _) = log_in(
        &relay,
        &admin.email,
        &admin.password,
        &[("X-Forwarded-For", "192.0.2.44")],
    )
    .await;
    assert_eq!(status, 200, "another client behind the same proxy logs in");
    relay.stop().await;
}
