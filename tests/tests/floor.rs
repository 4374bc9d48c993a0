//! The bare floor `make bench` measures beside the relay forwards every visitor frame
//! to its agent socket and prints the lines the bench reads.

use std::process::Command;

#[test]
fn the_floor_delivers_every_frame_and_prints_the_figures_the_bench_reads() {
    let output = Command::new(env!("CARGO_BIN_EXE_floor"))
        .args([
            "--visitors",
            "20",
            "--agents",
            "2",
            "--rate",
            "200",
            "--secs",
            "1",
        ])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        printed.contains("sent 200 at") && printed.contains("delivered to agents 200"),
        "{printed}"
    );
    assert!(
        printed.contains("  errors                 0\n"),
        "{printed}"
    );
    for line in [
        "visitors connected     20 in",
        "latency p50",
        "relay RSS",
        "relay CPU under load",
    ] {
        assert!(printed.contains(line), "no {line:?} in:\n{printed}");
    }
}
