//! The framing policy, tried as an attacker would: whatever the spelling of a path,
//! an HTML answer carries its page's policy (the widget: the site's origins; the
//! console: nobody, also by `X-Frame-Options`), or it is not served.

mod common;

use common::{TestRelay, header, http, start};

const WIDGET: &str = "<p>widget</p>";
const CONSOLE: &str = "<p>console</p>";

async fn relay_with_pages() -> TestRelay {
    let relay = start().await;
    let assets = relay.state.config.assets_dir.clone();
    for (folder, page) in [("widget", WIDGET), ("console", CONSOLE)] {
        std::fs::create_dir_all(assets.join(folder).join("nested")).unwrap();
        std::fs::write(assets.join(folder).join("index.html"), page).unwrap();
        std::fs::write(assets.join(folder).join("nested/index.html"), page).unwrap();
        std::fs::write(assets.join(folder).join("app-1.js"), "1").unwrap();
    }
    relay
}

/// Spellings of the same two pages that a router, a file server or a browser might
/// each read differently.
fn spellings(folder: &str) -> Vec<String> {
    [
        "/",
        "//",
        "///",
        "/./",
        "/.//",
        "//./",
        "/.",
        "/index.html",
        "//index.html",
        "/./index.html",
        "/%69ndex.html",
        "/index%2ehtml",
        "/%2e/index.html",
        "/%2f",
        "/%2F",
        "/%2findex.html",
        "/app-1.js/..",
        "/app-1.js/../",
        "/app-1.js/../index.html",
        "/nested",
        "/nested/",
        "/nested/index.html",
        "/nested/.",
        "/index.html/",
        "/index.html/.",
        "/INDEX.HTML",
        "/index.htm",
        "/index.html;x",
        "/index.html?x=1",
        "/?site=demo&x=/index.html",
    ]
    .iter()
    .map(|tail| format!("/{folder}{tail}"))
    .collect()
}

/// Asks for `path`: when the answer is the page (`marker` in it), it must carry
/// `policy` (and `X-Frame-Options: DENY` if `deny`); any other HTML answer must carry
/// a policy of its own.
async fn assert_framing(relay: &TestRelay, path: &str, marker: &str, policy: &str, deny: bool) {
    let (status, headers, body) = http(relay.addr, "GET", path, &[], "").await;
    if status == 200 && body.contains(marker) {
        assert_eq!(
            header(&headers, "content-security-policy"),
            Some(policy),
            "{path} served the page with the wrong policy"
        );
        if deny {
            assert_eq!(header(&headers, "x-frame-options"), Some("DENY"), "{path}");
        }
    } else {
        assert!(
            !body.contains('<') || header(&headers, "content-security-policy").is_some(),
            "{path} answered {status} with HTML and no policy: {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_spelling_of_a_path_serves_the_widget_without_the_sites_policy() {
    let relay = relay_with_pages().await;
    for path in spellings("widget") {
        let path = if path.contains('?') {
            path
        } else {
            format!("{path}?site=demo")
        };
        assert_framing(&relay, &path, "widget", "frame-ancestors 'self'", false).await;
    }
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_spelling_of_a_path_serves_the_console_framable() {
    let relay = relay_with_pages().await;
    for path in spellings("console") {
        assert_framing(&relay, &path, "console", "frame-ancestors 'none'", true).await;
    }
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_only_routes_to_a_page_are_its_own_and_assets_are_never_html() {
    let relay = relay_with_pages().await;
    for folder in ["widget", "console"] {
        for path in spellings(folder) {
            let (status, headers, _) = http(relay.addr, "GET", &path, &[], "").await;
            let own = [
                format!("/{folder}/"),
                format!("/{folder}/index.html"),
                format!("/{folder}/?site=demo&x=/index.html"),
                format!("/{folder}/index.html?x=1"),
            ];
            if !own.contains(&path) {
                assert!(
                    status != 200
                        || !header(&headers, "content-type")
                            .unwrap_or_default()
                            .starts_with("text/html"),
                    "{path} served HTML ({status}) outside the page's own route"
                );
            }
        }
    }
    // A real asset still comes through, and the demo pages may not be framed.
    let (status, _, body) = http(relay.addr, "GET", "/widget/app-1.js", &[], "").await;
    assert_eq!((status, body.as_str()), (200, "1"));
    for page in ["/", "/ai"] {
        let (status, headers, _) = http(relay.addr, "GET", page, &[], "").await;
        assert_eq!(status, 200);
        assert_eq!(
            header(&headers, "content-security-policy"),
            Some("frame-ancestors 'none'"),
            "{page}"
        );
        assert_eq!(header(&headers, "x-frame-options"), Some("DENY"), "{page}");
    }
    relay.stop().await;
}
