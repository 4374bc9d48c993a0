//! When an acknowledged write is safe: the one durability choice every backend maps
//! onto its own settings.

/// When an acknowledged message is safe.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// Survives power loss: every commit is fsynced (`synchronous=FULL`).
    #[default]
    Full,
    /// Survives a crashed or killed relay, not a power cut (`synchronous=NORMAL`):
    /// lower tail latency on slow disks.
    Normal,
}

impl std::str::FromStr for Durability {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "full" => Ok(Self::Full),
            "normal" => Ok(Self::Normal),
            other => Err(format!("\"{other}\" is not a durability (full, normal)")),
        }
    }
}
