//! Requests to addresses others chose, tried as an attacker would: a profile's
//! webhook, a webhook endpoint's delivery and the knowledge crawler pointed at loopback
//! by every spelling, at the cloud metadata address, and through redirects. Each is refused, and no request
//! reaches the stand-in listening there; the profile check names the refused host.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::response::{IntoResponse, Redirect};
use axum::routing::any;
use common::{TestRelay, json_call, start, start_allowing_loopback};
use porchlight_relay::flow::{Format, Profile};
use porchlight_relay::knowledge::crawl;
use porchlight_relay::outbound::{Outbound, OutboundPolicy, Redirects};
use porchlight_relay::webhooks::sender::{Answer, Post, Request};
use serde_json::json;

/// A listener on `ip` that counts every request and answers JSON (or redirects to
/// `redirect`); returns its port and the count.
async fn stand_in(ip: &str, redirect: Option<String>) -> (u16, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&hits);
    let app = Router::new().fallback(any(move || {
        let counted = Arc::clone(&counted);
        let redirect = redirect.clone();
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            match redirect {
                Some(to) => Redirect::temporary(&to).into_response(),
                None => axum::Json(json!({"customer": {"name": "Internal"}})).into_response(),
            }
        }
    }));
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, hits)
}

fn webhook_profile(url: &str) -> Profile {
    let text = format!(
        r#"
name = "Lookup"
start = "lookup"
[[steps]]
id = "lookup"
type = "action"
action = "call_webhook"
url = "{url}"
timeout_ms = 2000
save = {{ customer = "/customer/name" }}
next = "known"
[[steps]]
id = "known"
type = "condition"
when = {{ test = "variable", variable = "customer", is_set = true }}
then = "leaked"
else = "refused"
[[steps]]
id = "leaked"
type = "message"
text = "The webhook said $CUSTOMER"
next = "ask"
[[steps]]
id = "refused"
type = "message"
text = "No answer from the webhook."
next = "ask"
[[steps]]
id = "ask"
type = "question"
text = "Go on?"
choices = [{{ label = "Yes", next = "ask" }}]
"#
    );
    Profile::parse(&text, Format::Toml).unwrap()
}

/// What a new visitor hears first from a profile whose webhook is `url`.
async fn first_words(relay: &TestRelay, url: &str) -> String {
    relay.use_profile(&webhook_profile(url), true).await;
    let mut visitor = relay.visitor().await;
    visitor.hello(None, None).await;
    loop {
        let message = visitor.next_of_type("message").await;
        if message["author"] == "bot" {
            return message["body"].as_str().unwrap().to_owned();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_reaches_no_private_address_by_any_spelling() {
    let (port, hits) = stand_in("127.0.0.1", None).await;
    let relay = start().await;
    for host in [
        "127.0.0.1".to_owned(),
        "localhost".to_owned(),
        "2130706433".to_owned(),
        "0x7f000001".to_owned(),
        "127.1".to_owned(),
        "0177.0.0.1".to_owned(),
        "[::ffff:127.0.0.1]".to_owned(),
        "localhost.".to_owned(),
    ] {
        let url = format!("http://{host}:{port}/lookup");
        assert_eq!(
            first_words(&relay, &url).await,
            "No answer from the webhook.",
            "{url}"
        );
    }
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/",
        "http://0.0.0.0:9/",
        "http://[fd00:ec2::254]/",
    ] {
        assert_eq!(
            first_words(&relay, url).await,
            "No answer from the webhook."
        );
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "no request reached loopback"
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_webhook_works_and_is_not_followed_elsewhere() {
    let (elsewhere, elsewhere_hits) = stand_in("127.0.0.2", None).await;
    let (allowed, _) = stand_in("127.0.0.1", None).await;
    let (redirecting, _) =
        stand_in("127.0.0.1", Some(format!("http://127.0.0.2:{elsewhere}/"))).await;
    let relay = start_allowing_loopback().await;
    assert_eq!(
        first_words(&relay, &format!("http://127.0.0.1:{allowed}/")).await,
        "The webhook said Internal",
        "the allow list opens 127.0.0.1"
    );
    assert_eq!(
        first_words(&relay, &format!("http://127.0.0.1:{redirecting}/")).await,
        "No answer from the webhook."
    );
    assert_eq!(
        first_words(&relay, &format!("http://127.0.0.2:{elsewhere}/")).await,
        "No answer from the webhook.",
        "127.0.0.2 is not on the list"
    );
    assert_eq!(elsewhere_hits.load(Ordering::SeqCst), 0);
    relay.stop().await;
}

/// What a webhook endpoint's delivery to `url` comes to, through the relay's client.
async fn delivered(outbound: &Outbound, url: String) -> Answer {
    let request = Request {
        url,
        headers: vec![("webhook-id".into(), "msg_1".into())],
        body: "{}".into(),
    };
    Post::post(outbound, request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_delivery_reaches_no_private_address_and_follows_no_redirect() {
    let (elsewhere, elsewhere_hits) = stand_in("127.0.0.2", None).await;
    let (port, hits) = stand_in("127.0.0.1", None).await;
    let (redirecting, _) =
        stand_in("127.0.0.1", Some(format!("http://127.0.0.2:{elsewhere}/"))).await;
    let timeout = std::time::Duration::from_secs(5);
    let public_only = Outbound::new(
        &Arc::new(OutboundPolicy::default()),
        Redirects::None,
        timeout,
    )
    .unwrap();
    for (url, kind) in [
        (format!("http://127.0.0.1:{port}/hook"), "loopback"),
        (format!("http://localhost:{port}/hook"), "loopback"),
        (format!("http://0x7f000001:{port}/hook"), "loopback"),
        (format!("http://[::ffff:127.0.0.1]:{port}/hook"), "loopback"),
        (
            "http://169.254.169.254/latest/meta-data/".into(),
            "link-local",
        ),
        ("http://10.1.2.3/hook".into(), "private"),
    ] {
        let answer = delivered(&public_only, url.clone()).await;
        assert!(
            matches!(&answer, Answer::Failed(why) if why.contains(kind)),
            "{url}: {answer:?}"
        );
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "no request reached loopback"
    );

    let allowed = OutboundPolicy {
        allowed: vec!["127.0.0.1".parse().unwrap()],
    };
    let loopback_allowed = Outbound::new(&Arc::new(allowed), Redirects::None, timeout).unwrap();
    let answer = delivered(
        &loopback_allowed,
        format!("http://127.0.0.1:{redirecting}/hook"),
    )
    .await;
    assert!(
        matches!(answer, Answer::Status { code: 307, .. }),
        "a redirect is an answer, not followed: {answer:?}"
    );
    assert_eq!(elsewhere_hits.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crawler_refuses_private_sites_and_redirects_off_the_site() {
    let (elsewhere, elsewhere_hits) = stand_in("127.0.0.2", None).await;
    let (loopback, loopback_hits) = stand_in("127.0.0.1", None).await;
    let relay = start().await;
    let store = &relay.state.store;
    let site = store.site_by_key("demo").await.unwrap().unwrap().id;
    let limits = crawl::Limits::default();

    let strict = Outbound::new(
        &Arc::new(OutboundPolicy::default()),
        Redirects::SameOrigin,
        crawl::PAGE_TIMEOUT,
    )
    .unwrap();
    for start_url in [
        format!("http://127.0.0.1:{loopback}/"),
        format!("http://localhost:{loopback}/"),
        format!("http://2130706433:{loopback}/"),
        "http://169.254.169.254/".to_owned(),
    ] {
        let err = crawl::crawl(&strict, store.as_ref(), site, &start_url, limits, |_, _| {})
            .await
            .unwrap_err();
        assert!(
            err.to_string().starts_with("cannot crawl there: "),
            "{start_url}: {err}"
        );
    }
    assert_eq!(loopback_hits.load(Ordering::SeqCst), 0);

    // Allowed to crawl 127.0.0.1, a page there that redirects to another origin is
    // skipped, and the other origin never asked.
    let (redirecting, _) =
        stand_in("127.0.0.1", Some(format!("http://127.0.0.2:{elsewhere}/"))).await;
    let loopback_ok = Outbound::new(
        &Arc::new(OutboundPolicy {
            allowed: vec!["127.0.0.0/8".parse().unwrap()],
        }),
        Redirects::SameOrigin,
        crawl::PAGE_TIMEOUT,
    )
    .unwrap();
    let err = crawl::crawl(
        &loopback_ok,
        store.as_ref(),
        site,
        &format!("http://127.0.0.1:{redirecting}/"),
        limits,
        |_, _| {},
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("redirected to another site"),
        "{err}"
    );
    assert_eq!(elsewhere_hits.load(Ordering::SeqCst), 0);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profile_check_names_a_refused_webhook_host_and_saves_nothing() {
    let relay = start().await;
    let cookie = relay.agent_cookie(&relay.admin().email, "Admin").await;
    let text = webhook_profile("http://169.254.169.254/latest/meta-data/").render(Format::Toml);
    let (status, checked) = json_call(
        relay.addr,
        "POST",
        "/api/profiles/check",
        &cookie,
        json!({"text": text, "format": "toml"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(checked["ok"], false);
    assert_eq!(checked["problems"][0]["step"], "lookup");
    assert_eq!(checked["problems"][0]["field"], "url");
    assert_eq!(
        checked["problems"][0]["message"],
        "169.254.169.254 is a link-local (cloud metadata lives here) address (169.254.169.254); the relay only calls public addresses (see outbound_allow)"
    );
    let before = relay.state.store.all_profiles().await.unwrap().len();
    let (status, refused) = json_call(
        relay.addr,
        "POST",
        "/api/profiles",
        &cookie,
        json!({"text": text, "format": "toml", "make_default": true}),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        relay.state.store.all_profiles().await.unwrap().len(),
        before
    );

    let text = webhook_profile("http://localhost:8080/").render(Format::Toml);
    let (_, checked) = json_call(
        relay.addr,
        "POST",
        "/api/profiles/check",
        &cookie,
        json!({"text": text, "format": "toml"}),
    )
    .await;
    assert!(
        checked["problems"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("localhost is a loopback address"),
        "{checked}"
    );
    relay.stop().await;
}
