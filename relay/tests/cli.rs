//! `porchlight profiles check | import | export`, run as a user would.

use std::path::Path;
use std::process::{Command, Output};

fn porchlight(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_porchlight"))
        .args(args)
        .env("PORCHLIGHT_LOG", "warn")
        .output()
        .unwrap()
}

fn example() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/helpdesk.toml")
        .display()
        .to_string()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_passes_the_example_and_names_every_problem_of_a_broken_profile() {
    let ok = porchlight(&["profiles", "check", &example()]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains("ok: profile \"Help desk\" (10 steps, 0 warning(s))"));

    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.toml");
    std::fs::write(
        &broken,
        "name = \"x\"\nstart = \"a\"\n[[steps]]\nid = \"a\"\ntype = \"question\"\ntext = \"?\"\n[[steps]]\nid = \"b\"\ntype = \"message\"\ntext = \"hi\"\nnext = \"zz\"\n",
    )
    .unwrap();
    let bad = porchlight(&["profiles", "check", broken.to_str().unwrap()]);
    assert!(!bad.status.success());
    let stderr = text(&bad.stderr);
    assert!(
        stderr.contains("step \"a\", field \"choices\": a question needs at least one choice"),
        "{stderr}"
    );
    assert!(
        stderr.contains("step \"b\", field \"next\": leads to step \"zz\", which does not exist"),
        "{stderr}"
    );

    let missing = porchlight(&["profiles", "check", "/nonexistent.toml"]);
    assert!(!missing.status.success());
    assert!(text(&missing.stderr).contains("cannot read /nonexistent.toml"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_makes_the_profile_the_sites_and_export_prints_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap().to_owned();

    let before_seed = porchlight(&["profiles", "import", &example(), "--data", &data_arg]);
    assert!(!before_seed.status.success());
    assert!(text(&before_seed.stderr).contains("no site has the key \"demo\""));

    // The relay seeds the demo site on its first start.
    drop(
        porchlight_relay::server::Relay::open(porchlight_relay::config::Config {
            data_dir: data.clone(),
            ..porchlight_relay::config::Config::default()
        })
        .await
        .unwrap(),
    );

    let imported = porchlight(&["profiles", "import", &example(), "--data", &data_arg]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    assert!(text(&imported.stdout).contains("imported profile \"Help desk\""));

    let exported = porchlight(&["profiles", "export", "--data", &data_arg]);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let toml = text(&exported.stdout);
    let profile =
        porchlight_relay::flow::Profile::parse(&toml, porchlight_relay::flow::Format::Toml)
            .unwrap();
    let original = porchlight_relay::flow::Profile::parse(
        &std::fs::read_to_string(example()).unwrap(),
        porchlight_relay::flow::Format::Toml,
    )
    .unwrap();
    assert_eq!(profile, original);

    let json = porchlight(&[
        "profiles", "export", "--format", "json", "--data", &data_arg,
    ]);
    assert!(text(&json.stdout).trim_start().starts_with('{'));

    // An invalid file changes nothing.
    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        r#"{"name":"Help desk","start":"ghost","steps":[]}"#,
    )
    .unwrap();
    let refused = porchlight(&[
        "profiles",
        "import",
        broken.to_str().unwrap(),
        "--data",
        &data_arg,
    ]);
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("nothing was imported"));
    let still = porchlight(&["profiles", "export", "--data", &data_arg]);
    assert_eq!(text(&still.stdout), toml);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_password_gives_a_locked_out_admin_a_new_one_time_password() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap().to_owned();
    let config = porchlight_relay::config::Config {
        data_dir: data.clone(),
        ..porchlight_relay::config::Config::default()
    };
    let (relay, first) = porchlight_relay::server::Relay::open(config.clone())
        .await
        .unwrap();
    let first = first.unwrap();
    drop(relay);

    let unknown = porchlight(&[
        "agents",
        "reset-password",
        "nobody@example.com",
        "--data",
        &data_arg,
    ]);
    assert!(!unknown.status.success());
    assert!(text(&unknown.stderr).contains("there is no agent with the email nobody@example.com"));
    let reset = porchlight(&[
        "agents",
        "reset-password",
        &first.email,
        "--data",
        &data_arg,
    ]);
    assert!(reset.status.success(), "{}", text(&reset.stderr));
    let printed = text(&reset.stdout);
    let password = printed
        .split("one-time password ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_owned();
    assert_ne!(password, first.password);

    let (relay, _) = porchlight_relay::server::Relay::open(config).await.unwrap();
    let store = &relay.state().store;
    let admin = store.agent_by_email(&first.email).await.unwrap().unwrap();
    assert!(admin.must_change_password, "they choose their own at login");
    assert!(porchlight_relay::auth::verify_password(
        &admin.password_hash,
        &password
    ));
    assert!(!porchlight_relay::auth::verify_password(
        &admin.password_hash,
        &first.password
    ));
}
