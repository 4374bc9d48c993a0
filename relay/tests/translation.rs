//! Translation with no AI provider: LibreTranslate and Azure Translator, each played
//! by a small server inside the test. Also the visitor's browser language, which the
//! console offers as the language of a reply.

mod common;

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::{json_call as call, start_allowing_loopback};
use porchlight_relay::server::DEMO_ADMIN_EMAIL;
use serde_json::{Value, json};

/// What the fake service was asked: the query, the key and region headers, the body.
type Asked = Arc<Mutex<Vec<(Option<String>, Option<String>, Option<String>, Value)>>>;

/// Answers like LibreTranslate (an object body) or Azure (an array body); the target
/// `xx` is refused as LibreTranslate refuses it.
async fn fake_service(
    State(asked): State<Asked>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    asked.lock().unwrap().push((
        query,
        header("ocp-apim-subscription-key"),
        header("ocp-apim-subscription-region"),
        body.clone(),
    ));
    if body.is_array() {
        return (
            StatusCode::OK,
            Json(json!([{ "translations": [{ "text": "Où est mon colis ?", "to": "fr" }] }])),
        );
    }
    if body["target"] == "xx" {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "xx is not supported" })),
        );
    }
    (
        StatusCode::OK,
        Json(json!({ "translatedText": "Wo ist mein Paket?" })),
    )
}

async fn start_fake() -> (String, Asked) {
    let asked = Asked::default();
    let app = axum::Router::new()
        .route("/translate", post(fake_service))
        .with_state(Arc::clone(&asked));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, asked)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_translate_through_libretranslate_or_azure_when_no_ai_provider_is_set() {
    let relay = start_allowing_loopback().await;
    let admin = relay.agent_cookie(DEMO_ADMIN_EMAIL, "Admin").await;
    let (fake, asked) = start_fake().await;

    // The visitor's browser prefers Austrian German: the agent's list says so.
    let mut visitor = relay.visitor().await;
    visitor
        .send(json!({"type": "hello", "v": 1, "site": "demo", "languages": ["de-AT", "en"]}))
        .await;
    visitor.next_of_type("welcome").await;
    let chat = visitor.say("v-1", "Wo ist mein Paket?").await["conversation_id"]
        .as_i64()
        .unwrap();
    let (_agent, welcome) = relay.agent(DEMO_ADMIN_EMAIL, "Admin").await;
    let listed = welcome["chats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["conversation_id"] == chat)
        .cloned();
    assert_eq!(listed.unwrap()["visitor_language"], "de-AT");

    let path = format!("/api/conversations/{chat}/ai/translate");
    let ask = |text: &str, language: &str| json!({"text": text, "language": language});
    let (_, helpers) = call(relay.addr, "GET", "/api/ai", &admin, Value::Null).await;
    assert_eq!(helpers, json!({"helpers": false, "translation": false}));
    let (status, _) = call(relay.addr, "POST", &path, &admin, ask("Where is it?", "de")).await;
    assert_eq!(status, 409, "nothing set up");

    let save = |form: Value| call(relay.addr, "PUT", "/api/admin/translation", &admin, form);
    let (status, bad) = save(json!({"service": "libretranslate", "url": ""})).await;
    assert_eq!(
        (status, bad["code"].as_str()),
        (422, Some("invalid")),
        "{bad}"
    );
    let (status, bad) =
        save(json!({"service": "libretranslate", "url": "ftp://lt.example.com"})).await;
    assert_eq!(status, 422, "{bad}");
    let (status, saved) =
        save(json!({"service": "libretranslate", "url": fake, "key": "lt-key"})).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["key_set"], true);
    assert!(saved.get("key").is_none(), "the key is never shown back");
    let (_, helpers) = call(relay.addr, "GET", "/api/ai", &admin, Value::Null).await;
    assert_eq!(helpers, json!({"helpers": false, "translation": true}));

    let (status, translated) = call(
        relay.addr,
        "POST",
        &path,
        &admin,
        ask("Where is my parcel?", "de-AT"),
    )
    .await;
    assert_eq!(
        (status, translated["text"].as_str()),
        (200, Some("Wo ist mein Paket?")),
        "{translated}"
    );
    let (query, key, _, body) = asked.lock().unwrap().last().cloned().unwrap();
    assert_eq!(query, None);
    assert_eq!(key, None, "LibreTranslate takes its key in the body");
    assert_eq!(
        body,
        json!({"q": "Where is my parcel?", "source": "auto", "target": "de", "format": "text", "api_key": "lt-key"})
    );
    let (status, refused) = call(relay.addr, "POST", &path, &admin, ask("Hello", "xx")).await;
    assert_eq!(status, 502);
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("xx is not supported"),
        "{refused}"
    );

    let (status, _) =
        save(json!({"service": "azure", "url": fake, "region": "westeurope", "key": "az-key"}))
            .await;
    assert_eq!(status, 200);
    let (_, translated) = call(
        relay.addr,
        "POST",
        &path,
        &admin,
        ask("Where is my parcel?", "fr"),
    )
    .await;
    assert_eq!(translated["text"], "Où est mon colis ?");
    let (query, key, region, body) = asked.lock().unwrap().last().cloned().unwrap();
    assert_eq!(query.as_deref(), Some("api-version=3.0&to=fr"));
    assert_eq!(
        (key.as_deref(), region.as_deref()),
        (Some("az-key"), Some("westeurope"))
    );
    assert_eq!(body, json!([{"Text": "Where is my parcel?"}]));

    let (_, off) = save(json!({"service": "none"})).await;
    assert_eq!(off["service"], "none");
    let (status, _) = call(relay.addr, "POST", &path, &admin, ask("Hello", "fr")).await;
    assert_eq!(status, 409);
    relay.stop().await;
}
