//! Files in chats. `POST /api/v1/conversations/{id}/attachments` takes one file
//! (multipart field `file`, optional field `client_msg_id`) from the visitor (their
//! token as `Authorization: Bearer`) when the chat allows visitor uploads, or from an
//! agent in the chat (session cookie, console origin). The file must be on the type
//! allowlist, and its first bytes must match its type; it is stored under a random
//! name in `DATA/attachments/` and posted as a message. `GET /files/{key}` serves it
//! as a download (pictures inline), never as HTML or SVG.

use std::path::PathBuf;

use axum::Json;
use axum::body::Body;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use porchlight_protocol::{AttachmentInfo, Author, ConversationStatus};
use tokio::io::AsyncWriteExt;

use crate::auth::{api_error, current_agent, is_token, random_token, same_origin, token_hash};
use crate::server::AppState;
use crate::store::{Conversation, NewMessage, Role, StoreError, StoredAttachment};
use crate::ws::{announce_conversation, announce_message};

/// The folder under the data directory that holds the files.
pub const FOLDER: &str = "attachments";
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

/// Who is sending a file.
enum Sender {
    Visitor { id: i64 },
    Agent { id: i64, name: String },
}

async fn sender(
    state: &AppState,
    headers: &HeaderMap,
    conversation: &Conversation,
) -> Result<Sender, Response> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    if let Some(token) = bearer {
        let visitor = if is_token(token) {
            state
                .store
                .visitor_by_token(conversation.site_id, &token_hash(token))
                .await
                .ok()
                .flatten()
        } else {
            None
        };
        return match visitor {
            Some(visitor) if visitor.id == conversation.visitor_id => {
                if conversation.uploads_allowed() {
                    Ok(Sender::Visitor { id: visitor.id })
                } else {
                    Err(api_error(
                        StatusCode::FORBIDDEN,
                        "uploads_off",
                        "Files cannot be sent in this chat.",
                    ))
                }
            }
            _ => Err(no_such_chat()),
        };
    }
    if !same_origin(headers) {
        return Err(api_error(
            StatusCode::FORBIDDEN,
            "bad_origin",
            "Send files from the relay's own console.",
        ));
    }
    let Some(agent) = current_agent(state, headers).await else {
        return Err(api_error(
            StatusCode::UNAUTHORIZED,
            "login_required",
            "Log in first.",
        ));
    };
    let holds = conversation.agent.as_ref().map(|holder| holder.id) == Some(agent.id);
    if conversation.status != ConversationStatus::Active || !(holds || agent.role == Role::Admin) {
        return Err(api_error(
            StatusCode::FORBIDDEN,
            "not_joined",
            "Join the chat before sending files.",
        ));
    }
    Ok(Sender::Agent {
        id: agent.id,
        name: agent.name,
    })
}

fn no_such_chat() -> Response {
    api_error(StatusCode::NOT_FOUND, "not_found", "No such conversation.")
}

fn bad_upload(message: &'static str) -> Response {
    api_error(StatusCode::BAD_REQUEST, "bad_upload", message)
}

fn internal() -> Response {
    api_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "The relay could not store the file; try again.",
    )
}

/// `POST /api/v1/conversations/{id}/attachments`.
pub async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Response {
    let conversation = match state.store.conversation(id).await {
        Ok(Some(conversation)) => conversation,
        Ok(None) => return no_such_chat(),
        Err(_) => return internal(),
    };
    let sender = match sender(&state, &headers, &conversation).await {
        Ok(sender) => sender,
        Err(refused) => return refused,
    };
    let folder = state.config.data_dir.join(FOLDER);
    if tokio::fs::create_dir_all(&folder).await.is_err() {
        return internal();
    }
    let limit = state.config.max_upload_bytes;
    let mut client_msg_id = None;
    let mut stored: Option<(String, String, u64)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => return multipart_error(&err, limit),
        };
        match field.name() {
            Some("client_msg_id") => match field.text().await {
                Ok(text)
                    if !text.is_empty()
                        && text.len() <= porchlight_protocol::MAX_CLIENT_MSG_ID_BYTES =>
                {
                    client_msg_id = Some(text);
                }
                _ => return bad_upload("client_msg_id must be 1 to 64 bytes."),
            },
            Some("file") if stored.is_none() => {
                let name = clean_name(field.file_name().unwrap_or("file"));
                let key = random_token();
                match save(field, &folder.join(&key), limit).await {
                    Ok(size) => stored = Some((key, name, size)),
                    Err(refused) => return refused,
                }
            }
            _ => return bad_upload("Send one field named file (and optionally client_msg_id)."),
        }
    }
    let Some((key, name, size)) = stored else {
        return bad_upload("Send the file in a field named file.");
    };
    let path = folder.join(&key);
    let content_type = match head_of(&path).await.map(|head| classify(&name, &head)) {
        Some(Ok(content_type)) => content_type,
        Some(Err(problem)) => {
            let _ = tokio::fs::remove_file(&path).await;
            return api_error_owned(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "file_type",
                problem.to_string(),
            );
        }
        None => return internal(),
    };
    let attachment = AttachmentInfo {
        name: name.clone(),
        content_type: content_type.to_owned(),
        size,
        url: format!("/files/{key}"),
    };
    let (author, author_id, author_name) = match sender {
        Sender::Visitor { id } => (Author::Visitor, Some(id), None),
        Sender::Agent { id, name } => (Author::Agent, Some(id), Some(name)),
    };
    let message = NewMessage {
        attachment: Some(attachment),
        ..NewMessage::text(
            id,
            client_msg_id,
            author,
            author_id,
            author_name,
            name.clone(),
        )
    };
    let file = StoredAttachment {
        conversation_id: id,
        storage_key: key,
        name,
        content_type: content_type.to_owned(),
        size,
    };
    match state.store.add_attachment(file, message).await {
        Ok(appended) => {
            if appended.duplicate {
                let _ = tokio::fs::remove_file(&path).await;
            } else {
                announce_message(&state.hub, &appended.message, None);
                if let Ok(Some(updated)) = state.store.conversation(id).await {
                    announce_conversation(&state.hub, &updated);
                }
            }
            (StatusCode::CREATED, Json(appended.message)).into_response()
        }
        Err(err) => {
            let _ = tokio::fs::remove_file(&path).await;
            match err {
                StoreError::ConversationEnded => api_error(
                    StatusCode::CONFLICT,
                    "conversation_ended",
                    "This conversation has ended.",
                ),
                StoreError::NotJoined => api_error(
                    StatusCode::FORBIDDEN,
                    "not_joined",
                    "Join the chat before sending files.",
                ),
                _ => internal(),
            }
        }
    }
}

fn api_error_owned(status: StatusCode, code: &'static str, message: String) -> Response {
    (
        status,
        Json(serde_json::json!({"code": code, "message": message})),
    )
        .into_response()
}

fn multipart_error(err: &axum::extract::multipart::MultipartError, limit: u64) -> Response {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(limit)
    } else {
        bad_upload("The upload is not valid multipart form data.")
    }
}

fn too_large(limit: u64) -> Response {
    api_error_owned(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("Files are limited to {} MB.", limit / (1024 * 1024)),
    )
}

/// Streams the field to `path`; refuses (and removes) a file over `limit` bytes.
async fn save(
    mut field: axum::extract::multipart::Field<'_>,
    path: &PathBuf,
    limit: u64,
) -> Result<u64, Response> {
    let Ok(mut file) = tokio::fs::File::create(path).await else {
        return Err(internal());
    };
    let mut size: u64 = 0;
    let outcome = loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                size += chunk.len() as u64;
                if size > limit {
                    break Err(too_large(limit));
                }
                if file.write_all(&chunk).await.is_err() {
                    break Err(internal());
                }
            }
            Ok(None) => break file.flush().await.map(|()| size).map_err(|_| internal()),
            Err(err) => break Err(multipart_error(&err, limit)),
        }
    };
    if outcome.is_err() {
        let _ = tokio::fs::remove_file(path).await;
    }
    outcome
}

async fn head_of(path: &PathBuf) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(path).await.ok()?;
    let mut head = vec![0; 512];
    let read = file.read(&mut head).await.ok()?;
    head.truncate(read);
    Some(head)
}

/// `GET /files/{key}`: the file, as a download (pictures inline), sandboxed.
pub async fn download(State(state): State<AppState>, Path(key): Path<String>) -> Response {
    if !is_token(&key) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Ok(Some(file)) = state.store.attachment(&key).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let path = state.config.data_dir.join(FOLDER).join(&file.storage_key);
    let Ok(bytes) = tokio::fs::read(&path).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let inline = file.content_type.starts_with("image/");
    let disposition = format!(
        "{}; filename=\"{}\"",
        if inline { "inline" } else { "attachment" },
        file.name.replace(|c: char| !c.is_ascii() || c == '"', "_")
    );
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(&file.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'; img-src 'self'"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    response
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
