//! The no-key agent's evaluation runs and holds its ground: `kbeval` over
//! `examples/knowledge-eval` prints each kind of question, and questions in the
//! articles' own words keep citing the right article.

use std::process::Command;

#[test]
fn the_evaluation_prints_every_kind_and_words_questions_cite_the_right_article() {
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
    assert_eq!(row("paraphrase")[1], "22");
    assert_eq!(row("out_of_scope")[1], "22");
}
