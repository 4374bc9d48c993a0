//! Knowledge: `porchlight kb` run as a user would, retrieval over the example
//! documents, the crawler against a small site served from the test, and whether the
//! knowledge answers a question when no provider reads it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use porchlight_relay::ai::embedder::{Embedder, embed_missing};
use porchlight_relay::ai::judge::{Verdict, passages_answering};
use porchlight_relay::knowledge::{self, crawl};
use porchlight_relay::outbound::{Outbound, OutboundPolicy, Redirects};
use porchlight_relay::store::{KnowledgeStore, SiteId, SiteStore, SqliteStore, Store};

fn porchlight(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_porchlight"))
        .args(args)
        .arg("--data")
        .arg(data)
        .env("PORCHLIGHT_LOG", "warn")
        .output()
        .unwrap()
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/knowledge")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn kb_import_then_search_finds_the_right_passage_and_reimport_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let examples = examples();
    let imported = porchlight(&data, &["kb", "import", examples.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    let stdout = text(&imported.stdout);
    assert!(
        stdout.starts_with("12 file(s): 12 added, 0 updated, 0 unchanged, 0 failed"),
        "{stdout}"
    );
    assert!(text(&imported.stderr).contains("importing [##############################] 12/12"));

    let found = porchlight(
        &data,
        &["kb", "search", "how long do refunds take?", "--json"],
    );
    assert!(found.status.success(), "{}", text(&found.stderr));
    let hits: serde_json::Value = serde_json::from_slice(&found.stdout).unwrap();
    let first = &hits[0];
    assert_eq!(first["title"], "Billing and refunds");
    assert_eq!(first["heading"], "Billing and refunds › Refunds");
    assert!(
        first["source"]
            .as_str()
            .unwrap()
            .ends_with("examples/knowledge/billing.md")
    );
    assert!(
        first["text"]
            .as_str()
            .unwrap()
            .contains("5 to 10 working days")
    );
    assert!(first["score"].as_f64().unwrap() > 0.0);

    // Stemming: "deliveries" finds "delivery"; HTML headings become passages.
    let found = porchlight(
        &data,
        &[
            "kb",
            "search",
            "how fast are deliveries",
            "--limit",
            "1",
            "--json",
        ],
    );
    let hits: serde_json::Value = serde_json::from_slice(&found.stdout).unwrap();
    assert_eq!(hits.as_array().unwrap().len(), 1);
    assert_eq!(hits[0]["title"], "Shipping and delivery");
    assert_eq!(hits[0]["anchor"], "times");

    let plain = porchlight(&data, &["kb", "search", "zebra quantum"]);
    assert!(
        text(&plain.stdout).contains("no passage matches"),
        "{}",
        text(&plain.stdout)
    );

    let again = porchlight(&data, &["kb", "import", examples.to_str().unwrap()]);
    assert!(
        text(&again.stdout).starts_with("12 file(s): 0 added, 0 updated, 12 unchanged"),
        "{}",
        text(&again.stdout)
    );

    let bad = porchlight(&data, &["kb", "import", "/nonexistent/folder"]);
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("cannot read /nonexistent/folder"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn kb_list_and_delete_remove_a_document_from_search() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("warranty.md");
    std::fs::write(&file, "# Warranty\nEvery kettle has a two year warranty.\n").unwrap();
    assert!(
        porchlight(&data, &["kb", "import", file.to_str().unwrap()])
            .status
            .success()
    );
    let listed = text(&porchlight(&data, &["kb", "list"]).stdout);
    assert!(listed.contains("Warranty  (1 passage(s)"), "{listed}");
    let id = listed.split_whitespace().next().unwrap().to_owned();

    // A changed file replaces its passages.
    std::fs::write(
        &file,
        "# Warranty\nEvery toaster has a five year warranty.\n",
    )
    .unwrap();
    let updated = porchlight(&data, &["kb", "import", file.to_str().unwrap()]);
    assert!(
        text(&updated.stdout).contains("0 added, 1 updated"),
        "{}",
        text(&updated.stdout)
    );
    let kettle = porchlight(&data, &["kb", "search", "kettle", "--json"]);
    assert_eq!(text(&kettle.stdout).trim(), "[]");
    let toaster = porchlight(&data, &["kb", "search", "toaster", "--json"]);
    assert!(text(&toaster.stdout).contains("five year"));

    let deleted = porchlight(&data, &["kb", "delete", &id]);
    assert!(deleted.status.success(), "{}", text(&deleted.stderr));
    let gone = porchlight(&data, &["kb", "search", "toaster", "--json"]);
    assert_eq!(text(&gone.stdout).trim(), "[]");
    let again = porchlight(&data, &["kb", "delete", &id]);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains(&format!("the site has no document {id}")));
}

/// A store with the demo site, as the relay seeds it.
async fn seeded_store(dir: &Path) -> SqliteStore {
    let store = SqliteStore::open(dir).unwrap();
    store
        .seed_if_empty(porchlight_relay::store::Seed {
            site_key: "demo".into(),
            site_name: "Demo".into(),
            profile_name: "Default".into(),
            profile_definition: porchlight_relay::profiles::default_profile()
                .render(porchlight_relay::flow::Format::Json),
            team_name: "Support".into(),
            admin_email: "a@example.com".into(),
            admin_name: "A".into(),
            admin_password_hash: "x".into(),
        })
        .await
        .unwrap();
    store
}

fn page(body: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body)
}

async fn help_site() -> (String, tokio::task::JoinHandle<()>) {
    let app = Router::new()
        .route("/robots.txt", get(|| async { "User-agent: *\nDisallow: /private\n" }))
        .route(
            "/help/",
            get(|| async {
                page(r#"<title>Help</title><h1>Help centre</h1><p>Start here.</p>
                <a href="/help/returns">Returns</a> <a href="/private/keys">Keys</a>
                <a href="https://elsewhere.test/x">Elsewhere</a> <a href="deep/1">Deep</a>"#)
            }),
        )
        .route(
            "/help/returns",
            get(|| async { page("<title>Returns</title><h2 id=\"how\">How to return</h2><p>Print the label within 30 days.</p>") }),
        )
        .route("/help/deep/1", get(|| async { page("<title>Deep</title><p>Level one. <a href=\"2\">next</a></p>") }))
        .route("/help/deep/2", get(|| async { page("<title>Deeper</title><p>Level two.</p>") }))
        .route("/private/keys", get(|| async { page("<p>secret</p>") }))
        .route(
            "/sitemap.xml",
            get(|headers: axum::http::HeaderMap| async move {
                let host = headers[header::HOST].to_str().unwrap().to_owned();
                (
                    [(header::CONTENT_TYPE, "application/xml")],
                    format!(
                        "<urlset><url><loc>http://{host}/help/returns</loc></url>\
                         <url><loc>http://{host}/help/deep/2</loc></url>\
                         <url><loc>https://elsewhere.test/</loc></url></urlset>"
                    ),
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (base, server)
}

#[tokio::test]
async fn the_crawler_stays_on_the_site_obeys_robots_and_the_depth_limit() {
    let (base, server) = help_site().await;
    let dir = tempfile::tempdir().unwrap();
    let store = seeded_store(dir.path()).await;
    let site = store.site_by_key("demo").await.unwrap().unwrap().id;
    let store: Arc<dyn Store> = Arc::new(store);
    // The help site is on loopback: allowed here as a config would allow it.
    let policy = Arc::new(OutboundPolicy {
        allowed: vec!["127.0.0.1".parse().unwrap()],
    });
    let http = Outbound::new(&policy, Redirects::SameOrigin, crawl::PAGE_TIMEOUT).unwrap();
    let limits = crawl::Limits {
        max_pages: 10,
        max_depth: 1,
    };
    let report = crawl::crawl(
        &http,
        store.as_ref(),
        site,
        &format!("{base}/help/"),
        limits,
        |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(report.pages, 3, "{report:?}");
    assert!(
        report
            .skipped
            .iter()
            .any(|line| line.contains("/private/keys: disallowed by robots.txt")),
        "{report:?}"
    );
    let sources: Vec<String> = store
        .kb_documents(site)
        .await
        .unwrap()
        .into_iter()
        .map(|document| document.source)
        .collect();
    assert!(
        sources.contains(&format!("{base}/help/returns")),
        "{sources:?}"
    );
    assert!(sources.contains(&format!("{base}/help/deep/1")));
    assert!(
        !sources.iter().any(|source| source.contains("deep/2")),
        "depth 1 stops there"
    );
    assert!(!sources.iter().any(|source| source.contains("elsewhere")));

    let hits = knowledge::search(store.as_ref(), site, "return label", 1, None)
        .await
        .unwrap();
    assert_eq!(hits[0].link().unwrap(), format!("{base}/help/returns#how"));

    let from_sitemap = crawl::Limits {
        max_pages: 10,
        max_depth: 0,
    };
    let report = crawl::crawl(
        &http,
        store.as_ref(),
        site,
        &format!("{base}/sitemap.xml"),
        from_sitemap,
        |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(
        (report.pages, report.added, report.unchanged),
        (2, 1, 1),
        "{report:?}"
    );

    let bad = crawl::crawl(
        &http,
        store.as_ref(),
        site,
        "ftp://x.test/",
        limits,
        |_, _| {},
    )
    .await;
    assert!(
        bad.unwrap_err()
            .to_string()
            .contains("is not an http(s) URL")
    );
    let down = crawl::crawl(
        &http,
        store.as_ref(),
        site,
        &format!("{base}/missing"),
        limits,
        |_, _| {},
    )
    .await;
    assert!(down.unwrap_err().to_string().contains("answered 404"));
    server.abort();
}

#[tokio::test]
async fn search_never_returns_another_sites_passages() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded_store(dir.path()).await;
    let ours = store.site_by_key("demo").await.unwrap().unwrap().id;
    // A second site, as a multi-site install would have.
    let other = {
        let conn = rusqlite::Connection::open(store.path()).unwrap();
        conn.execute(
            "INSERT INTO sites (key, name, created_at) VALUES ('other', 'Other', 0)",
            [],
        )
        .unwrap();
        conn.last_insert_rowid()
    };
    // The other site has many better matches; ours has one weaker one.
    for number in 0..40 {
        let text = format!("# Kettle {number}\nKettle kettle kettle descaling.\n");
        let document = knowledge::document(
            &format!("other/{number}.md"),
            porchlight_relay::store::knowledge::DocFormat::Markdown,
            &text,
            "x",
        );
        store.kb_put(other, document).await.unwrap();
    }
    let ours_doc = knowledge::document(
        "ours.md",
        porchlight_relay::store::knowledge::DocFormat::Markdown,
        "# Appliances\nOur kettle is guaranteed for two years.\n",
        "x",
    );
    store.kb_put(ours, ours_doc).await.unwrap();

    let hits = knowledge::search(&store, ours, "kettle", 5, None)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].source, "ours.md");
    let theirs = knowledge::search(&store, other, "kettle", 5, None)
        .await
        .unwrap();
    assert_eq!(theirs.len(), 5);
    assert!(theirs.iter().all(|hit| hit.source.starts_with("other/")));
}

/// Adds a one-passage document; returns the passage's id.
async fn put_passage(store: &SqliteStore, site: i64, source: &str) -> i64 {
    let document = knowledge::document(
        source,
        porchlight_relay::store::knowledge::DocFormat::Markdown,
        "# A\nText.\n",
        "x",
    );
    store.kb_put(site, document).await.unwrap();
    store.kb_unembedded("test-model".into(), 10).await.unwrap()[0].0
}

/// The vector search answers from a copy in memory; a passage added, re-embedded or
/// deleted (here by another process's store, as `porchlight kb import` beside a
/// running relay) is seen at the next search.
#[tokio::test]
async fn the_vector_search_sees_every_change_to_the_knowledge() {
    let dir = tempfile::tempdir().unwrap();
    let relay_store = seeded_store(dir.path()).await;
    let site = relay_store.site_by_key("demo").await.unwrap().unwrap().id;
    let model = || "test-model".to_owned();
    let nearest = |vector: Vec<f32>| relay_store.kb_nearest(site, model(), vector, 5);
    let first = put_passage(&relay_store, site, "first.md").await;
    relay_store
        .kb_set_embeddings(model(), vec![(first, vec![1.0, 0.0])])
        .await
        .unwrap();
    let found = nearest(vec![1.0, 0.0]).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, first);
    assert!((found[0].1 - 1.0).abs() < 1e-6);

    let other_process = SqliteStore::open(dir.path()).unwrap();
    let second = put_passage(&other_process, site, "second.md").await;
    assert!(
        nearest(vec![0.0, 1.0]).await.unwrap().is_empty(),
        "none while a passage waits for its vector"
    );
    other_process
        .kb_set_embeddings(model(), vec![(second, vec![0.0, 3.0])])
        .await
        .unwrap();
    let found = nearest(vec![0.0, 1.0]).await.unwrap();
    assert_eq!(found[0].0, second, "added elsewhere, found here");
    other_process
        .kb_set_embeddings(model(), vec![(second, vec![-1.0, 0.0])])
        .await
        .unwrap();
    let found = nearest(vec![1.0, 0.0]).await.unwrap();
    let order: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
    assert_eq!(order, [first, second], "its new vector counts");
    assert!((found[1].1 + 1.0).abs() < 1e-6);
    assert!(
        nearest(vec![1.0, 0.0, 0.0]).await.unwrap().is_empty(),
        "another size"
    );

    let documents = other_process.kb_documents(site).await.unwrap();
    let second_doc = documents
        .iter()
        .find(|doc| doc.source == "second.md")
        .unwrap();
    assert!(other_process.kb_delete(site, second_doc.id).await.unwrap());
    let found = nearest(vec![0.0, 1.0]).await.unwrap();
    assert_eq!(found.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [first]);
}

#[tokio::test]
async fn keyword_search_ranks_passages_holding_every_word_and_falls_back_to_any_word() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded_store(dir.path()).await;
    let site = store.site_by_key("demo").await.unwrap().unwrap().id;
    let put = |source: String, text: String| {
        let store = &store;
        async move {
            let document = knowledge::document(
                &source,
                porchlight_relay::store::knowledge::DocFormat::Markdown,
                &text,
                "x",
            );
            store.kb_put(site, document).await.unwrap();
        }
    };
    for number in 0..30 {
        put(
            format!("kettle/{number}.md"),
            format!("# Kettle {number}\nKettle kettle kettle, the kettle.\n"),
        )
        .await;
    }
    for number in 0..3 {
        put(
            format!("both/{number}.md"),
            format!("# Care {number}\nDescaling your kettle every month.\n"),
        )
        .await;
    }
    let terms = |words: &[&str]| {
        words
            .iter()
            .map(|word| (*word).to_owned())
            .collect::<Vec<_>>()
    };

    let every = store
        .kb_keyword(site, terms(&["kettle", "descaling"]), 2)
        .await
        .unwrap();
    assert_eq!(every.len(), 2);
    assert!(
        every.iter().all(|hit| hit.source.starts_with("both/")),
        "{every:?}"
    );

    // Five wanted, three hold both words: the ranking is over every passage with either.
    let any = store
        .kb_keyword(site, terms(&["kettle", "descaling"]), 5)
        .await
        .unwrap();
    let sources: Vec<&str> = any.iter().map(|hit| hit.source.as_str()).collect();
    assert_eq!(sources.len(), 5, "{sources:?}");
    assert_eq!(
        sources
            .iter()
            .filter(|source| source.starts_with("both/"))
            .count(),
        3,
        "{sources:?}"
    );
    assert!(
        sources[..3]
            .iter()
            .all(|source| source.starts_with("both/")),
        "{sources:?}"
    );

    let none_hold_both = store
        .kb_keyword(site, terms(&["kettle", "warranty"]), 5)
        .await
        .unwrap();
    assert_eq!(none_hold_both.len(), 5);
    assert!(
        none_hold_both
            .iter()
            .all(|hit| hit.source.starts_with("kettle/"))
    );
}

/// The example help centre in a seeded store, embedded by the built-in model.
async fn example_help_centre(dir: &Path) -> (SqliteStore, SiteId) {
    let store = seeded_store(dir).await;
    let site = store.site_by_key("demo").await.unwrap().unwrap().id;
    let files = knowledge::import::files(&examples()).unwrap();
    knowledge::import::import_all(&store, site, &files, |_, _| {})
        .await
        .unwrap();
    embed_missing(&store, &Embedder::BuiltIn, || false)
        .await
        .unwrap();
    (store, site)
}

async fn judged(store: &dyn Store, site: SiteId, question: &str) -> (Vec<String>, Verdict) {
    let (hits, verdict) = passages_answering(store, site, question, 4).await.unwrap();
    (hits.iter().map(|hit| hit.label()).collect(), verdict)
}

/// With no provider, the agent answers from the knowledge only when it covers the
/// question: near enough in meaning, naming nothing the knowledge never mentions, and
/// leaving out nothing the question turns on.
#[tokio::test]
async fn the_knowledge_answers_what_it_covers_in_other_words_and_refuses_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let (store, site) = example_help_centre(dir.path()).await;

    // The visitor's own words, none of the passage's: answered, from the refunds.
    let (labels, verdict) = judged(&store, site, "Can I get my cash back?").await;
    assert_eq!(verdict, Verdict::Answers);
    assert_eq!(labels[0], "Billing and refunds › Refunds");

    // Far from every passage.
    let (labels, verdict) = judged(&store, site, "Who founded the company?").await;
    assert!(matches!(verdict, Verdict::Far(_)), "{verdict:?}");
    assert!(labels.is_empty(), "nothing to quote when refused");

    // Near the invoices, but about a product the knowledge never names.
    let (labels, verdict) = judged(&store, site, "Can I export invoices to QuickBooks?").await;
    assert_eq!(verdict, Verdict::UnknownName("QuickBooks".into()));
    assert!(labels.is_empty());
    // A name the knowledge holds is no reason to refuse.
    let (_, verdict) = judged(&store, site, "Does the app work on my iPhone?").await;
    assert_eq!(verdict, Verdict::Answers);
    // Written in capitals throughout, nothing counts as a name.
    let (_, verdict) = judged(&store, site, "HOW LONG DO REFUNDS TAKE?").await;
    assert_eq!(verdict, Verdict::Answers);

    // Near the invoices, asking for what they do not offer: a colour.
    let (labels, verdict) = judged(&store, site, "Can I change the colour of my invoices?").await;
    assert_eq!(verdict, Verdict::LeftOut("colour".into()));
    assert!(labels.is_empty());
    // The passage's own subject in other words is not left out.
    let (_, verdict) = judged(&store, site, "How do I add a colleague?").await;
    assert_eq!(verdict, Verdict::Answers);
}
