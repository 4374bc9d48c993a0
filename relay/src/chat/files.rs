//! What a chat accepts as a file: the types on the allowlist, each checked against the
//! file's first bytes (so a page renamed `.png` is refused), and a clean name to show
//! it under. Plain Rust; `http/uploads.rs` applies it.

const MAX_NAME_CHARS: usize = 120;

/// The types a chat accepts: extension, the type it is served as, and the bytes a
/// real file of that type starts with (`None`: UTF-8 text).
const ALLOWED: &[(&str, &str, Option<&[u8]>)] = &[
    ("png", "image/png", Some(b"\x89PNG\r\n\x1a\n")),
    ("jpg", "image/jpeg", Some(b"\xff\xd8\xff")),
    ("jpeg", "image/jpeg", Some(b"\xff\xd8\xff")),
    ("gif", "image/gif", Some(b"GIF8")),
    ("webp", "image/webp", Some(b"RIFF")),
    ("pdf", "application/pdf", Some(b"%PDF-")),
    ("zip", "application/zip", Some(b"PK\x03\x04")),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Some(b"PK\x03\x04"),
    ),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some(b"PK\x03\x04"),
    ),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        Some(b"PK\x03\x04"),
    ),
    ("txt", "text/plain; charset=utf-8", None),
    ("log", "text/plain; charset=utf-8", None),
    ("csv", "text/csv; charset=utf-8", None),
];

/// Why a file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileProblem {
    #[error(
        "Files of this type cannot be sent; allowed: png, jpg, gif, webp, pdf, zip, docx, xlsx, pptx, txt, log, csv."
    )]
    TypeNotAllowed,
    #[error("The file's content does not match its .{0} name.")]
    ContentMismatch(String),
    #[error("The file is empty.")]
    Empty,
}

/// The name a file is shown under: its last path part, without control characters,
/// quotes or backslashes, at most 120 characters.
pub fn clean_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\\' | '/'))
        .take(MAX_NAME_CHARS)
        .collect();
    match cleaned.trim() {
        "" => "file".to_owned(),
        name => name.to_owned(),
    }
}

/// The type to serve a file as, from its name's extension, checked against the file's
/// first bytes (`head`, up to 512) so that a page renamed `.png` is refused.
pub fn classify(name: &str, head: &[u8]) -> Result<&'static str, FileProblem> {
    if head.is_empty() {
        return Err(FileProblem::Empty);
    }
    let extension = name
        .rsplit_once('.')
        .map(|(_, extension)| extension.to_ascii_lowercase())
        .ok_or(FileProblem::TypeNotAllowed)?;
    let (_, content_type, magic) = ALLOWED
        .iter()
        .find(|(allowed, _, _)| *allowed == extension)
        .ok_or(FileProblem::TypeNotAllowed)?;
    let matches = match magic {
        Some(magic) if extension == "webp" => {
            head.starts_with(magic) && head.get(8..12) == Some(b"WEBP")
        }
        Some(magic) => head.starts_with(magic),
        // Text: valid UTF-8 (a multi-byte character may be cut at the end of `head`).
        None => match std::str::from_utf8(head) {
            Ok(_) => true,
            Err(err) => err.error_len().is_none(),
        },
    };
    if matches {
        Ok(content_type)
    } else {
        Err(FileProblem::ContentMismatch(extension))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_name_and_must_match_the_content() {
        assert_eq!(classify("a.PNG", b"\x89PNG\r\n\x1a\n...."), Ok("image/png"));
        assert_eq!(classify("scan.pdf", b"%PDF-1.7"), Ok("application/pdf"));
        assert_eq!(
            classify("notes.txt", "héllo".as_bytes()),
            Ok("text/plain; charset=utf-8")
        );
        assert_eq!(
            classify("x.webp", b"RIFF\0\0\0\0WEBPVP8 "),
            Ok("image/webp")
        );
        assert_eq!(
            classify("x.png", b"<html><script>alert(1)</script>"),
            Err(FileProblem::ContentMismatch("png".into()))
        );
        assert_eq!(
            classify("x.webp", b"RIFF\0\0\0\0WAVE"),
            Err(FileProblem::ContentMismatch("webp".into()))
        );
        assert_eq!(
            classify("page.html", b"<html>"),
            Err(FileProblem::TypeNotAllowed)
        );
        assert_eq!(
            classify("logo.svg", b"<svg>"),
            Err(FileProblem::TypeNotAllowed)
        );
        assert_eq!(
            classify("noextension", b"data"),
            Err(FileProblem::TypeNotAllowed)
        );
        assert_eq!(
            classify("binary.txt", b"\xff\xfe\x00bad"),
            Err(FileProblem::ContentMismatch("txt".into()))
        );
        assert_eq!(classify("empty.txt", b""), Err(FileProblem::Empty));
    }

    #[test]
    fn names_lose_paths_and_dangerous_characters() {
        assert_eq!(clean_name("C:\\Users\\me\\report.pdf"), "report.pdf");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("a\"b\r\n.txt"), "ab.txt");
        assert_eq!(clean_name(""), "file");
        assert_eq!(clean_name(&"x".repeat(300)).chars().count(), 120);
    }
}
