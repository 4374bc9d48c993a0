//! Where `porchlight serve` takes each setting from, run as a user would: flags beat
//! environment variables, which beat the config file, which beats the defaults.

mod common;

use std::path::Path;
use std::process::Stdio;

use common::PATIENCE;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// Starts `porchlight serve` in `cwd` with `args` and only the `env` given of its own
/// variables; returns the address it says it listens on, once its data is open.
async fn listening_address(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_porchlight"));
    command
        .current_dir(cwd)
        .arg("serve")
        .args(args)
        .env("PORCHLIGHT_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    for name in [
        "PORCHLIGHT_ADDR",
        "PORCHLIGHT_DATA",
        "PORCHLIGHT_CONFIG",
        "PORCHLIGHT_ASSETS",
        "PORCHLIGHT_DURABILITY",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .expect("the relay started in time")
        .unwrap()
        .expect("the relay printed its address");
    child.kill().await.unwrap();
    first.rsplit("http://").next().unwrap().trim().to_owned()
}

fn holds_a_database(folder: &Path) -> bool {
    folder.join("porchlight.sqlite3").exists()
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_beat_the_environment_which_beats_the_file_which_beats_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let folder = |name: &str| root.join(name).display().to_string();

    // Defaults: the data folder is ./data.
    listening_address(root, &["--addr", "127.0.0.1:0"], &[]).await;
    assert!(holds_a_database(&root.join("data")), "./data by default");

    // The file beats the defaults.
    let file = root.join("porchlight.toml");
    std::fs::write(
        &file,
        format!(
            "addr = \"127.0.0.1:0\"\ndata = \"{}\"\n",
            folder("from-file")
        ),
    )
    .unwrap();
    let file = file.display().to_string();
    let from_file = listening_address(root, &["--config", &file], &[]).await;
    assert!(from_file.starts_with("127.0.0.1:"), "{from_file}");
    assert!(holds_a_database(&root.join("from-file")));

    // The environment beats the file (and names the file itself).
    let port = free_port();
    let env_addr = format!("127.0.0.1:{port}");
    let env_data = folder("from-env");
    let env = [
        ("PORCHLIGHT_CONFIG", file.as_str()),
        ("PORCHLIGHT_ADDR", env_addr.as_str()),
        ("PORCHLIGHT_DATA", env_data.as_str()),
    ];
    assert_eq!(listening_address(root, &[], &env).await, env_addr);
    assert!(holds_a_database(&root.join("from-env")));

    // Flags beat the environment.
    let flag_data = folder("from-flag");
    let from_flags =
        listening_address(root, &["--addr", "127.0.0.1:0", "--data", &flag_data], &env).await;
    assert_ne!(from_flags, env_addr);
    assert!(holds_a_database(&root.join("from-flag")));

    // A bad value in the environment is refused with its name, not ignored.
    let refused = Command::new(env!("CARGO_BIN_EXE_porchlight"))
        .current_dir(root)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("PORCHLIGHT_DURABILITY", "sometimes")
        .env_remove("PORCHLIGHT_CONFIG")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(PATIENCE, refused)
        .await
        .expect("refused at once, not served")
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("sometimes"), "{stderr}");
}
