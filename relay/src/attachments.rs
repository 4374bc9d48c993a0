//! The folder of chat files (`DATA/attachments/`). A file exists under its real name
//! only once its row is committed: it arrives as `incoming/KEY.part`, is renamed when
//! the row is in, and is removed on every other path (the [`Incoming`] guard removes
//! it when dropped). At start, [`AttachmentsDir::sweep`] finishes what a crash
//! interrupted: a part file whose row committed gets its name, any other is removed,
//! and so is a stored file that no row names.

use std::path::{Path, PathBuf};

use crate::auth::random_token;
use crate::store::{Store, StoreError};

const INCOMING: &str = "incoming";
const PART: &str = ".part";
/// The setting that says the stored files were once checked against their rows
/// (files orphaned before uploads arrived under temporary names).
const SWEPT_STORED: &str = "attachments_swept_v1";

#[derive(Debug, Clone)]
pub struct AttachmentsDir {
    root: PathBuf,
}

/// What a sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Part files whose row had committed, now under their name.
    pub finished: usize,
    /// Files no row names, removed.
    pub removed: usize,
}

impl AttachmentsDir {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            root: data_dir.join("attachments"),
        }
    }

    /// Where a stored file lives (`key` is a random token, never a path).
    pub fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    /// A stored file's bytes: from the folder, or else from the store (a file
    /// uploaded through another node of a cluster).
    pub async fn read(&self, store: &dyn Store, key: &str) -> std::io::Result<Vec<u8>> {
        match tokio::fs::read(self.path(key)).await {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && store.keeps_files() => store
                .file_content(key)
                .await
                .map_err(std::io::Error::other)?
                .ok_or(err),
            read => read,
        }
    }

    fn part_path(&self, key: &str) -> PathBuf {
        self.root.join(INCOMING).join(format!("{key}{PART}"))
    }

    /// A new file under a new random key, not yet anyone's.
    pub async fn incoming(&self) -> std::io::Result<Incoming> {
        tokio::fs::create_dir_all(self.root.join(INCOMING)).await?;
        let key = random_token();
        let part = self.part_path(&key);
        let file = tokio::fs::File::create(&part).await?;
        Ok(Incoming {
            file: Some(file),
            part,
            done: self.path(&key),
            key,
            kept: false,
        })
    }

    /// Finishes or removes what a crash left in `incoming/`; the first time, also
    /// removes stored files that no row names.
    pub async fn sweep(&self, store: &dyn Store) -> Result<Swept, SweepError> {
        let mut swept = Swept::default();
        for (path, name) in files_in(&self.root.join(INCOMING)).await? {
            let key = name.strip_suffix(PART).unwrap_or(&name);
            if name.ends_with(PART) && store.attachment(key).await?.is_some() {
                tokio::fs::rename(&path, self.path(key)).await?;
                swept.finished += 1;
            } else {
                tokio::fs::remove_file(&path).await?;
                swept.removed += 1;
            }
        }
        if store.setting(SWEPT_STORED).await?.is_none() {
            for (path, key) in files_in(&self.root).await? {
                if store.attachment(&key).await?.is_none() {
                    tokio::fs::remove_file(&path).await?;
                    swept.removed += 1;
                }
            }
            store.set_setting(SWEPT_STORED, "true".into()).await?;
        }
        Ok(swept)
    }

    /// Removes the files whose rows were deleted (by an erasure or retention), then
    /// forgets them; a file already gone counts as removed. Says how many.
    pub async fn remove_deleted(&self, store: &dyn Store) -> Result<usize, SweepError> {
        let mut removed = Vec::new();
        for key in store.files_to_delete().await? {
            match tokio::fs::remove_file(self.path(&key)).await {
                Ok(()) => removed.push(key),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => removed.push(key),
                Err(err) => tracing::warn!(error = %err, "cannot remove a deleted chat's file"),
            }
        }
        let count = removed.len();
        if count > 0 {
            store.files_deleted(removed).await?;
        }
        Ok(count)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("cannot tidy the attachments folder: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The plain files directly in `folder` (none when it does not exist), by name.
async fn files_in(folder: &Path) -> std::io::Result<Vec<(PathBuf, String)>> {
    let mut entries = match tokio::fs::read_dir(folder).await {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut files = Vec::new();
    while let Some(entry) = entries.next_entry().await? {
        if entry.file_type().await?.is_file()
            && let Ok(name) = entry.file_name().into_string()
        {
            files.push((entry.path(), name));
        }
    }
    Ok(files)
}

/// A file being received. Dropped without [`Incoming::keep`], it is removed.
#[derive(Debug)]
pub struct Incoming {
    file: Option<tokio::fs::File>,
    part: PathBuf,
    done: PathBuf,
    key: String,
    kept: bool,
}

impl Incoming {
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The open file to write to (until [`Incoming::written`]).
    pub fn file(&mut self) -> Option<&mut tokio::fs::File> {
        self.file.as_mut()
    }

    /// Closes the file once everything is written.
    pub async fn written(&mut self) -> std::io::Result<()> {
        if let Some(mut file) = self.file.take() {
            use tokio::io::AsyncWriteExt;
            file.flush().await?;
            file.sync_all().await?;
        }
        Ok(())
    }

    /// The file as written so far, to read its first bytes.
    pub fn part_path(&self) -> &Path {
        &self.part
    }

    /// Gives the file its real name: call once its row is committed.
    pub async fn keep(mut self) -> std::io::Result<()> {
        // The row is in: from here the part file is never removed; if the rename
        // fails, the next start's sweep finishes it.
        self.kept = true;
        self.written().await?;
        tokio::fs::rename(&self.part, &self.done).await
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        if !self.kept {
            // Synchronous on purpose: the guard must hold on every path, also when the
            // request's future is dropped mid-upload.
            let _ = std::fs::remove_file(&self.part);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_not_kept_is_gone_and_a_kept_one_has_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let attachments = AttachmentsDir::new(dir.path());
        let dropped = attachments.incoming().await.unwrap();
        let part = dropped.part_path().to_owned();
        assert!(part.exists());
        drop(dropped);
        assert!(!part.exists(), "dropped without keep: removed");

        let mut kept = attachments.incoming().await.unwrap();
        let key = kept.key().to_owned();
        {
            use tokio::io::AsyncWriteExt;
            kept.file().unwrap().write_all(b"hello").await.unwrap();
        }
        kept.keep().await.unwrap();
        assert_eq!(std::fs::read(attachments.path(&key)).unwrap(), b"hello");
        assert_eq!(
            std::fs::read_dir(dir.path().join("attachments/incoming"))
                .unwrap()
                .count(),
            0
        );
    }
}
