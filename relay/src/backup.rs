//! `porchlight backup PATH` and `porchlight restore PATH`: a copy of the data folder
//! (the database and the chat files) taken while the relay runs, and putting one back
//! while it is stopped. A restore never deletes: what it replaces is moved aside.

use std::path::{Path, PathBuf};

use crate::store::{CopyCounts, DB_FILE, StoreError, check_copy, now_ms, snapshot};

/// The chat files' folder inside a data folder (and inside a backup).
const FILES: &str = "attachments";

/// What was copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    pub counts: CopyCounts,
    pub files: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists and is not an empty folder; name a new one")]
    TargetExists(PathBuf),
    #[error("{0} holds no Porchlight database ({DB_FILE})")]
    NoDatabase(PathBuf),
    #[error(
        "{0} already holds a database; stop the relay and pass --force to replace it \
         (the current data is kept beside it)"
    )]
    DataInUse(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Copies `data_dir` into the new folder `to` while the relay may be writing: the
/// database as one consistent snapshot, then the chat files (a file that arrives
/// meanwhile comes along; the next start of a restored copy removes any no row names).
pub fn backup(data_dir: &Path, to: &Path) -> Result<Copied, BackupError> {
    let database = data_dir.join(DB_FILE);
    if !database.is_file() {
        return Err(BackupError::NoDatabase(data_dir.to_path_buf()));
    }
    let empty = std::fs::read_dir(to).map_or(true, |mut entries| entries.next().is_none());
    if !empty || to.is_file() {
        return Err(BackupError::TargetExists(to.to_path_buf()));
    }
    std::fs::create_dir_all(to).map_err(io(to))?;
    let counts = snapshot(&database, &to.join(DB_FILE))?;
    let files = copy_folder(&data_dir.join(FILES), &to.join(FILES))?;
    Ok(Copied { counts, files })
}

/// Puts the backup in `from` into `data_dir` (the relay stopped). A data folder that
/// already holds a database is refused unless `force`; then its database and files are
/// moved into `data_dir/replaced-<time>/` first.
pub fn restore(from: &Path, data_dir: &Path, force: bool) -> Result<Copied, BackupError> {
    let copy = from.join(DB_FILE);
    if !copy.is_file() {
        return Err(BackupError::NoDatabase(from.to_path_buf()));
    }
    let counts = check_copy(&copy)?;
    let current = data_dir.join(DB_FILE);
    if current.exists() {
        if !force {
            return Err(BackupError::DataInUse(data_dir.to_path_buf()));
        }
        move_aside(data_dir)?;
    }
    std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    // Under a temporary name first: a restore cut short leaves no half database.
    let arriving = data_dir.join(format!("{DB_FILE}.restoring"));
    std::fs::copy(&copy, &arriving).map_err(io(&arriving))?;
    std::fs::rename(&arriving, &current).map_err(io(&current))?;
    let files = copy_folder(&from.join(FILES), &data_dir.join(FILES))?;
    Ok(Copied { counts, files })
}

/// Moves the database (with its WAL files) and the chat files into a new folder.
fn move_aside(data_dir: &Path) -> Result<(), BackupError> {
    let aside = data_dir.join(format!("replaced-{}", now_ms()));
    std::fs::create_dir_all(&aside).map_err(io(&aside))?;
    let wal = format!("{DB_FILE}-wal");
    let shm = format!("{DB_FILE}-shm");
    for name in [DB_FILE, wal.as_str(), shm.as_str(), FILES] {
        let path = data_dir.join(name);
        if path.exists() {
            std::fs::rename(&path, aside.join(name)).map_err(io(&path))?;
        }
    }
    Ok(())
}

/// Copies every file under `from` (sub-folders included) into `to`; the number copied.
fn copy_folder(from: &Path, to: &Path) -> Result<usize, BackupError> {
    let Ok(entries) = std::fs::read_dir(from) else {
        return Ok(0);
    };
    std::fs::create_dir_all(to).map_err(io(to))?;
    let mut copied = 0;
    for entry in entries {
        let entry = entry.map_err(io(from))?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copied += copy_folder(&path, &target)?;
        } else {
            // A file removed since the listing (a refused upload) is simply not there.
            match std::fs::copy(&path, &target) {
                Ok(_) => copied += 1,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(io(&path)(err)),
            }
        }
    }
    Ok(copied)
}
