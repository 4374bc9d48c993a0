//! The no-key agent's evaluation runs and holds its ground: `kbeval` over
//! `examples/knowledge-eval` prints each kind of question, and each kind scores at
//! least about what it scores now, on the questions it was tuned on and on those it
//! never was.

use std::process::Command;

/// kbeval's table for `questions`: each kind's row, split at spaces.
fn evaluate(questions: &str, asked: usize) -> impl Fn(&str) -> Vec<String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let output = Command::new(env!("CARGO_BIN_EXE_kbeval"))
        .args(["--questions", questions])
        .current_dir(root)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        printed.starts_with(&format!("{asked} questions over 12 articles")),
        "{printed}"
    );
    move |kind: &str| -> Vec<String> {
        let row: Vec<String> = printed
            .lines()
            .find(|line| line.starts_with(kind))
            .unwrap_or_else(|| panic!("no {kind} row in:\n{printed}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        println!("{}", row.join(" "));
        row
    }
}

/// A share from a kbeval row: column 2 is cited right, 6 refused.
fn share(row: &[String], column: usize) -> f64 {
    row[column].parse().unwrap()
}

#[test]
fn the_evaluation_prints_every_kind_and_each_kind_holds_its_ground() {
    // Floors under what the built-in model scores now (0.95, 0.82 and 0.95): a change
    // to the search or the judgement that loses ground fails here.
    let row = evaluate("examples/knowledge-eval/questions.toml", 66);
    let (words, paraphrase, out_of_scope) = (row("words"), row("paraphrase"), row("out_of_scope"));
    assert_eq!([&words[1], &paraphrase[1], &out_of_scope[1]], ["22"; 3]);
    assert!(
        share(&words, 2) >= 0.95,
        "words questions cite the right article"
    );
    assert!(
        share(&paraphrase, 2) >= 0.80,
        "paraphrases cite the right article"
    );
    assert!(
        share(&out_of_scope, 6) >= 0.90,
        "out-of-scope questions are refused"
    );
}

#[test]
fn questions_the_tuning_never_saw_score_about_as_well() {
    // Now 1.00, 0.71 and 0.67.
    let row = evaluate("examples/knowledge-eval/unseen.toml", 38);
    let (words, paraphrase, out_of_scope) = (row("words"), row("paraphrase"), row("out_of_scope"));
    assert_eq!(
        [&words[1], &paraphrase[1], &out_of_scope[1]],
        ["12", "14", "12"]
    );
    assert!(
        share(&words, 2) >= 0.95,
        "words questions cite the right article"
    );
    assert!(
        share(&paraphrase, 2) >= 0.70,
        "paraphrases cite the right article"
    );
    assert!(
        share(&out_of_scope, 6) >= 0.65,
        "out-of-scope questions are refused"
    );
}
