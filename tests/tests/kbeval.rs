//! The no-key agent's evaluation runs and holds its ground: `kbeval` over
//! `examples/knowledge-eval` prints each kind of question, and each kind scores at
//! least about what it scores now.

use std::process::Command;

#[test]
fn the_evaluation_prints_every_kind_and_each_kind_holds_its_ground() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let output = Command::new(env!("CARGO_BIN_EXE_kbeval"))
        .current_dir(root)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let row = |kind: &str| -> Vec<String> {
        printed
            .lines()
            .find(|line| line.starts_with(kind))
            .unwrap_or_else(|| panic!("no {kind} row in:\n{printed}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    assert!(
        printed.starts_with("66 questions over 12 articles"),
        "{printed}"
    );
    let words = row("words");
    assert_eq!(words[1], "22");
    let cited: f64 = words[2].parse().unwrap();
    assert!(
        cited >= 0.95,
        "words questions cite the right article: {printed}"
    );
    // Floors under what the built-in model scores now (0.82 and 0.64): a change to
    // the search or the threshold that loses ground fails here.
    let paraphrase = row("paraphrase");
    assert_eq!(paraphrase[1], "22");
    let cited: f64 = paraphrase[2].parse().unwrap();
    assert!(
        cited >= 0.80,
        "paraphrases cite the right article: {printed}"
    );
    let out_of_scope = row("out_of_scope");
    assert_eq!(out_of_scope[1], "22");
    let refused: f64 = out_of_scope[6].parse().unwrap();
    assert!(
        refused >= 0.60,
        "out-of-scope questions are refused: {printed}"
    );
}
