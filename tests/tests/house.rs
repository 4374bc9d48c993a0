//! Checks that keep the house in order: no source file grows past 500 lines, and the
//! reference in docs/ names every frame type and error code the protocol crate
//! defines, and every route the relay serves.

use std::path::{Path, PathBuf};

use porchlight_protocol::api::ApiCode;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|err| panic!("{path}: {err}"))
}

/// Every `.rs` file under `dir`, skipping build output and installed tools.
fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(
                name.as_str(),
                "target" | "dist" | ".tools" | ".git" | "node_modules"
            ) {
                rust_files(&path, found);
            }
        } else if name.ends_with(".rs") {
            found.push(path);
        }
    }
}

/// Test files may read as long stories: integration tests (a `tests/` folder) and the
/// unit-test modules (`tests.rs`).
fn is_test_file(path: &Path) -> bool {
    path.file_name().is_some_and(|name| name == "tests.rs")
        || path.components().any(|part| part.as_os_str() == "tests")
            && !path.components().any(|part| part.as_os_str() == "src")
}

#[test]
fn no_source_file_outside_the_tests_is_over_500_lines() {
    let mut files = Vec::new();
    rust_files(&root(), &mut files);
    assert!(files.len() > 50, "found only {} Rust files", files.len());
    let long: Vec<String> = files
        .iter()
        .filter(|path| !is_test_file(path))
        .filter_map(|path| {
            let lines = std::fs::read_to_string(path).ok()?.lines().count();
            (lines > 500).then(|| format!("{} ({lines} lines)", path.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these files: {long:#?}");
}

/// `CamelCase` variant names as serde's `snake_case` writes them.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (index, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if index > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The variants of `pub enum NAME` in `source`, snake_case.
fn variants(source: &str, name: &str) -> Vec<String> {
    let start = source
        .find(&format!("pub enum {name} {{"))
        .unwrap_or_else(|| panic!("no enum {name}"));
    let body = &source[start..];
    let end = body.find("\n}").unwrap();
    body[..end]
        .lines()
        .skip(1)
        .filter_map(|line| {
            let rest = line.strip_prefix("    ")?;
            let first = rest.chars().next()?;
            first.is_ascii_uppercase().then(|| {
                let name: String = rest
                    .chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .collect();
                snake(&name)
            })
        })
        .collect()
}

fn missing_in(doc: &str, names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|name| !doc.contains(&format!("`{name}")))
        .cloned()
        .collect()
}

#[test]
fn the_protocol_reference_names_every_frame_type_and_error_code() {
    let doc = read("docs/protocol.md");
    let visitor = read("protocol/src/visitor.rs");
    let agent = read("protocol/src/agent.rs");
    let mut names = Vec::new();
    names.extend(variants(&visitor, "VisitorRequest"));
    names.extend(variants(&visitor, "VisitorEvent"));
    names.extend(variants(&agent, "AgentRequest"));
    names.extend(variants(&agent, "AgentEvent"));
    names.extend(variants(&read("protocol/src/error.rs"), "ErrorCode"));
    assert!(names.len() > 40, "found only {names:?}");
    let missing = missing_in(&doc, &names);
    assert!(
        missing.is_empty(),
        "docs/protocol.md does not name {missing:?}"
    );
}

/// A route as the reference writes it: `{id}` is `ID`, `{key}` is `KEY`, `{*file}` is `*`.
fn as_documented(route: &str) -> String {
    route
        .split('/')
        .map(|part| match part {
            "{*file}" => "*".to_owned(),
            _ if part.starts_with('{') => part.trim_matches(['{', '}']).to_ascii_uppercase(),
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn the_http_reference_names_every_route_and_api_error_code() {
    let doc = read("docs/http-api.md");
    let router = read("relay/src/http/mod.rs");
    let mut routes = Vec::new();
    let mut rest = router.as_str();
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        let open = rest.find('"').unwrap();
        let close = rest[open + 1..].find('"').unwrap();
        routes.push(as_documented(&rest[open + 1..open + 1 + close]));
    }
    assert!(routes.len() > 40, "found only {routes:?}");
    let missing: Vec<&String> = routes
        .iter()
        .filter(|route| {
            !doc.contains(&format!(" {route}`")) && !doc.contains(&format!(" {route}?"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "docs/http-api.md does not name {missing:?}"
    );
    let codes: Vec<String> = ApiCode::ALL
        .iter()
        .map(|code| code.as_str().to_owned())
        .collect();
    let missing = missing_in(&doc, &codes);
    assert!(
        missing.is_empty(),
        "docs/http-api.md does not name {missing:?}"
    );
}
