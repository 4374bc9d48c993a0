//! Importing knowledge files from disk: one file, or every Markdown, HTML and text
//! file under a folder.

use std::path::{Path, PathBuf};

use super::document;
use crate::store::knowledge::{DocFormat, PutOutcome};
use crate::store::{KnowledgeStore, SiteId, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a Markdown, HTML or text file (.md, .html, .txt)")]
    Unsupported { path: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub chunks: usize,
    /// Files that could not be read (not UTF-8, unreadable), with why.
    pub failed: Vec<String>,
}

/// The knowledge files at `path`: the file itself, or those under the folder, sorted;
/// hidden files and folders are skipped.
pub fn files(path: &Path) -> Result<Vec<(PathBuf, DocFormat)>, ImportError> {
    let metadata = std::fs::metadata(path).map_err(|source| ImportError::Read {
        path: path.display().to_string(),
        source,
    })?;
    if metadata.is_file() {
        let format = DocFormat::from_path(path).ok_or_else(|| ImportError::Unsupported {
            path: path.display().to_string(),
        })?;
        return Ok(vec![(path.to_owned(), format)]);
    }
    let mut found = Vec::new();
    let mut folders = vec![path.to_owned()];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder).map_err(|source| ImportError::Read {
            path: folder.display().to_string(),
            source,
        })?;
        for entry in entries.flatten() {
            let entry_path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if hidden {
                continue;
            }
            if entry_path.is_dir() {
                folders.push(entry_path);
            } else if let Some(format) = DocFormat::from_path(&entry_path) {
                found.push((entry_path, format));
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

/// Reads, parses and stores one file; its source is its absolute path, so importing
/// it again replaces it.
pub async fn import_file(
    store: &dyn KnowledgeStore,
    site: SiteId,
    path: &Path,
    format: DocFormat,
) -> Result<(PutOutcome, usize), ImportError> {
    let read_error = |source| ImportError::Read {
        path: path.display().to_string(),
        source,
    };
    let bytes = std::fs::read(path).map_err(read_error)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        read_error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not UTF-8 text",
        ))
    })?;
    let source = std::path::absolute(path)
        .unwrap_or_else(|_| path.to_owned())
        .display()
        .to_string();
    let fallback = path.file_stem().map_or_else(
        || source.clone(),
        |stem| stem.to_string_lossy().replace(['-', '_'], " "),
    );
    let document = document(&source, format, &text, &fallback);
    let chunks = document.chunks.len();
    Ok((store.kb_put(site, document).await?, chunks))
}

/// Imports every file in `files`, calling `progress(done, total)` after each.
pub async fn import_all(
    store: &dyn KnowledgeStore,
    site: SiteId,
    files: &[(PathBuf, DocFormat)],
    mut progress: impl FnMut(usize, usize),
) -> Result<ImportReport, StoreError> {
    let mut report = ImportReport::default();
    for (done, (path, format)) in files.iter().enumerate() {
        match import_file(store, site, path, *format).await {
            Ok((outcome, chunks)) => {
                report.chunks += chunks;
                match outcome {
                    PutOutcome::Added => report.added += 1,
                    PutOutcome::Updated => report.updated += 1,
                    PutOutcome::Unchanged => report.unchanged += 1,
                }
            }
            Err(ImportError::Store(err)) => return Err(err),
            Err(err) => report.failed.push(err.to_string()),
        }
        progress(done + 1, files.len());
    }
    Ok(report)
}
