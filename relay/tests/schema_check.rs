//! The live REST API against its own OpenAPI document, with an independent checker
//! (schemathesis, which `make test` installs into `.tools/`): every operation is
//! called with generated inputs, and each answer must match what the document says
//! (status codes, bodies, headers) and never be a server error.

mod common;

use std::path::PathBuf;

use common::{json_call, start};
use serde_json::json;

/// Where `make test` puts schemathesis, or `SCHEMATHESIS` to use another.
fn schemathesis() -> PathBuf {
    std::env::var_os("SCHEMATHESIS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/venv/bin/schemathesis"),
        PathBuf::from,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_api_answers_as_its_openapi_document_says() {
    let checker = schemathesis();
    assert!(
        checker.exists(),
        "{} is missing: `make test` installs it (make tools)",
        checker.display()
    );
    let relay = start().await;
    let admin = relay.agent_cookie(&relay.admin().email, "Admin").await;
    let (status, made) = json_call(
        relay.addr,
        "POST",
        "/api/admin/sites/demo/api-keys",
        &admin,
        json!({"name": "checker", "scope": "read_write"}),
    )
    .await;
    assert_eq!(status, 201);
    let key = made["key"].as_str().unwrap().to_owned();
    let url = format!("http://{}/api/v1/openapi.json", relay.addr);
    let report = tokio::process::Command::new(&checker)
        .args(["run", &url, "--header"])
        .arg(format!("Authorization: Bearer {key}"))
        .args([
            "--checks",
            "all",
            // The API refuses some inputs the document cannot express (an address that
            // is not one, a name of spaces): always 422 with its error body, which the
            // other checks hold it to.
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            "25",
            "--generation-deterministic",
            "--request-timeout",
            "10",
        ])
        .env("NO_COLOR", "1")
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&report.stdout);
    assert!(
        report.status.success(),
        "{said}\n{}",
        String::from_utf8_lossy(&report.stderr)
    );
    relay.stop().await;
}
