//! A small mutation fuzzer that runs as an ordinary test (stable Rust has no
//! sanitizer-instrumented `cargo fuzz`). Inputs start from a seed corpus on disk and
//! are mutated byte-wise and with a dictionary of the format's tokens; an input whose
//! outcome (say, "parsed as `send`" or "bad_frame: missing field") was not seen before
//! joins the corpus, so the run digs past the first refusal. A panic or a broken
//! invariant saves the input under the target's `crashes/` folder and fails the test.
//!
//! `PORCHLIGHT_FUZZ_SCALE=N` runs N times the default executions (`make fuzz`);
//! `PORCHLIGHT_FUZZ_SEED` varies the random stream between long runs.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::Instant;

/// Inputs are kept below this, so a run never spends its time on megabyte strings.
const MAX_INPUT_BYTES: usize = 96 * 1024;
/// The corpus stops growing here; outcomes still count.
const MAX_CORPUS: usize = 1024;

/// A small deterministic generator (xorshift64*).
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Bytes that break formats: quotes, brackets, separators, escapes, nothing at all.
const INTERESTING_BYTES: &[u8] = b"\0\xff\x7f\"'{}[]:,\\<>=\n\r\t-#/.;& ";

pub(crate) struct Fuzzer {
    name: &'static str,
    corpus: Vec<Vec<u8>>,
    dictionary: Vec<Vec<u8>>,
    outcomes: HashSet<String>,
    rng: Rng,
    /// Corpus entries still to be tried verbatim before mutating.
    verbatim: usize,
    executions: u64,
    started: Instant,
}

impl Fuzzer {
    /// A fuzzer over `corpus/<name>/` (every file a seed), with extra `seeds` made in
    /// code and the format's `dictionary`.
    pub(crate) fn new(
        name: &'static str,
        seeds: impl IntoIterator<Item = Vec<u8>>,
        dictionary: &[&str],
    ) -> Self {
        let mut corpus: Vec<Vec<u8>> = seed_files(&corpus_dir(name));
        corpus.extend(seeds);
        assert!(!corpus.is_empty(), "{name} needs seeds");
        let salt = std::env::var("PORCHLIGHT_FUZZ_SEED")
            .ok()
            .and_then(|seed| seed.parse::<u64>().ok())
            .unwrap_or(0);
        let seed = name
            .bytes()
            .fold(0x9E37_79B9_7F4A_7C15_u64 ^ salt, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01B3)
            });
        Self {
            name,
            verbatim: corpus.len(),
            corpus,
            dictionary: dictionary
                .iter()
                .map(|token| token.as_bytes().to_vec())
                .collect(),
            outcomes: HashSet::new(),
            rng: Rng(seed | 1),
            executions: 0,
            started: Instant::now(),
        }
    }

    /// `default` scaled by `PORCHLIGHT_FUZZ_SCALE`.
    pub(crate) fn budget(default: u64) -> u64 {
        let scale = std::env::var("PORCHLIGHT_FUZZ_SCALE")
            .ok()
            .and_then(|scale| scale.parse::<u64>().ok())
            .unwrap_or(1);
        default * scale.max(1)
    }

    /// The next input: each seed as it is first, then mutants of the corpus.
    pub(crate) fn next_input(&mut self) -> Vec<u8> {
        self.executions += 1;
        if self.verbatim > 0 {
            self.verbatim -= 1;
            return self.corpus[self.verbatim].clone();
        }
        let mut input = self.corpus[self.rng.below(self.corpus.len())].clone();
        for _ in 0..=self.rng.below(4) {
            self.mutate(&mut input);
        }
        input.truncate(MAX_INPUT_BYTES);
        input
    }

    /// Records what `input` led to; a new outcome keeps the input for more mutation.
    pub(crate) fn observe(&mut self, input: Vec<u8>, outcome: String) {
        if self.outcomes.insert(outcome) && self.corpus.len() < MAX_CORPUS {
            self.corpus.push(input);
        }
    }

    /// Runs `check` on `executions` inputs. `check` returns the input's outcome, or
    /// panics (itself, or in the code under test) when an invariant breaks.
    pub(crate) fn run(mut self, executions: u64, mut check: impl FnMut(&[u8]) -> String) {
        for _ in 0..executions {
            let input = self.next_input();
            match catch_unwind(AssertUnwindSafe(|| check(&input))) {
                Ok(outcome) => self.observe(input, outcome),
                Err(panic) => self.crashed(&input, &panic_text(&*panic)),
            }
        }
        self.report();
    }

    /// Saves the input that broke the target and fails the test with where it is.
    pub(crate) fn crashed(&self, input: &[u8], why: &str) -> ! {
        let folder = corpus_dir(self.name).join("crashes");
        let path = std::fs::create_dir_all(&folder)
            .ok()
            .map(|()| folder.join(format!("crash-{:016x}", fingerprint(input))))
            .filter(|path| std::fs::write(path, input).is_ok());
        panic!(
            "fuzz {}: {why} after {} executions; input {:?} saved to {path:?} \
             (it runs first from now on: keep it there once fixed)",
            self.name,
            self.executions,
            String::from_utf8_lossy(&input[..input.len().min(400)]),
        );
    }

    /// One line per target, for the issue notes and `make fuzz`.
    pub(crate) fn report(&self) {
        eprintln!(
            "fuzz {}: {} executions, {} distinct outcomes, corpus {}, no crash, {:.1} s",
            self.name,
            self.executions,
            self.outcomes.len(),
            self.corpus.len(),
            self.started.elapsed().as_secs_f64()
        );
    }

    fn mutate(&mut self, input: &mut Vec<u8>) {
        let len = input.len();
        let at = self.rng.below(len + 1);
        match self.rng.below(10) {
            0 if len > 0 => input[at.min(len - 1)] ^= 1 << self.rng.below(8),
            1 if len > 0 => {
                input[at.min(len - 1)] = INTERESTING_BYTES[self.rng.below(INTERESTING_BYTES.len())];
            }
            2 if len > 0 => {
                let end = (at + 1 + self.rng.below(len / 4 + 1)).min(len);
                input.drain(at.min(len - 1)..end);
            }
            3 if len > 0 => {
                let from = self.rng.below(len);
                let end = (from + 1 + self.rng.below(64)).min(len);
                let copy = input[from..end].to_vec();
                input.splice(at..at, copy);
            }
            4 | 5 => {
                let token = self.token();
                input.splice(at..at, token);
            }
            6 if len > 0 => {
                let end = (at + 1 + self.rng.below(16)).min(len);
                let token = self.token();
                input.splice(at.min(len - 1)..end, token);
            }
            7 => {
                let other = &self.corpus[self.rng.below(self.corpus.len())];
                let from = self.rng.below(other.len() + 1);
                let tail = other[from..].to_vec();
                input.truncate(at);
                input.extend(tail);
            }
            8 => {
                // Deep nesting and long runs: where recursive parsers fall over.
                let token = self.token();
                let most = if self.rng.below(8) == 0 { 20_000 } else { 64 };
                let times = 1 + self.rng.below(most);
                let run: Vec<u8> = token.repeat(times);
                input.splice(at..at, run);
            }
            _ => {
                let count = 1 + self.rng.below(8);
                let bytes: Vec<u8> = (0..count).map(|_| self.rng.next_u64() as u8).collect();
                input.splice(at..at, bytes);
            }
        }
    }

    fn token(&mut self) -> Vec<u8> {
        if self.dictionary.is_empty() || self.rng.below(4) == 0 {
            vec![INTERESTING_BYTES[self.rng.below(INTERESTING_BYTES.len())]]
        } else {
            self.dictionary[self.rng.below(self.dictionary.len())].clone()
        }
    }
}

/// `relay/tests/fuzz/corpus/<name>`.
fn corpus_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/corpus")
        .join(name)
}

/// Every file under `folder` (crashes included), in a stable order.
fn seed_files(folder: &std::path::Path) -> Vec<Vec<u8>> {
    let mut paths = Vec::new();
    let mut folders = vec![folder.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                paths.push(path);
            }
        }
    }
    paths.sort();
    paths
        .iter()
        .filter_map(|path| std::fs::read(path).ok())
        .collect()
}

fn fingerprint(input: &[u8]) -> u64 {
    input.iter().fold(0xCBF2_9CE4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01B3)
    })
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
        .unwrap_or_else(|| "a panic".to_owned())
}
