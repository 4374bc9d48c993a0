//! Files in chats. `POST /api/v1/conversations/{id}/attachments` takes one file
//! (multipart field `file`, optional field `client_msg_id`) from the visitor (their
//! token as `Authorization: Bearer`) when the chat allows visitor uploads, or from an
//! agent in the chat (session cookie, console origin). The file must be on the type
//! allowlist, and its first bytes must match its type; it is stored under a random
//! name in `DATA/attachments/` and posted as a message. `GET /files/{key}` serves it
//! as a download (pictures inline), never as HTML or SVG.

use std::path::Path as FsPath;

use axum::Json;
use axum::body::Body;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use porchlight_protocol::api::ApiCode;
use porchlight_protocol::{AttachmentInfo, Author, ChatMessage, ConversationStatus};
use tokio::io::AsyncWriteExt;

use crate::auth::{current_agent, is_token, random_token, same_origin, token_hash};
use crate::chat::events::{announce_conversation, announce_message};
use crate::chat::files::{classify, clean_name};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{Appended, Conversation, NewMessage, Role, StoreError, StoredAttachment};

/// The folder under the data directory that holds the files.
pub(crate) const FOLDER: &str = "attachments";

/// Who is sending a file.
enum Sender {
    Visitor { id: i64 },
    Agent { id: i64, name: String },
}

fn no_such_chat() -> ApiError {
    ApiError::not_found("No such conversation.")
}

fn bad_upload(message: &'static str) -> ApiError {
    ApiError::new(ApiCode::BadUpload, message)
}

fn not_joined() -> ApiError {
    ApiError::new(ApiCode::NotJoined, "Join the chat before sending files.")
}

/// The visitor (by their token as `Authorization: Bearer`) when the chat takes their
/// files, or an agent in the chat (session cookie, console origin).
async fn sender(
    state: &AppState,
    headers: &HeaderMap,
    conversation: &Conversation,
) -> ApiResult<Sender> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    if let Some(token) = bearer {
        let visitor = if is_token(token) {
            state
                .store
                .visitor_by_token(conversation.site_id, &token_hash(token))
                .await?
        } else {
            None
        };
        return match visitor {
            Some(visitor) if visitor.id == conversation.visitor_id => {
                if conversation.uploads_allowed() {
                    Ok(Sender::Visitor { id: visitor.id })
                } else {
                    Err(ApiError::new(
                        ApiCode::UploadsOff,
                        "Files cannot be sent in this chat.",
                    ))
                }
            }
            _ => Err(no_such_chat()),
        };
    }
    if !same_origin(headers) {
        return Err(ApiError::new(
            ApiCode::BadOrigin,
            "Send files from the relay's own console.",
        ));
    }
    let Some(agent) = current_agent(state, headers).await else {
        return Err(ApiError::new(ApiCode::LoginRequired, "Log in first."));
    };
    let holds = conversation.agent.as_ref().map(|holder| holder.id) == Some(agent.id);
    if conversation.status != ConversationStatus::Active || !(holds || agent.role == Role::Admin) {
        return Err(not_joined());
    }
    Ok(Sender::Agent {
        id: agent.id,
        name: agent.name,
    })
}

/// A file written to disk under its random key, with the name it was sent as.
struct Received {
    key: String,
    name: String,
    size: u64,
    client_msg_id: Option<String>,
}

/// Reads the multipart fields: one `file` (written to `folder` as it streams in) and
/// an optional `client_msg_id`.
async fn receive(mut multipart: Multipart, folder: &FsPath, limit: u64) -> ApiResult<Received> {
    let mut client_msg_id = None;
    let mut stored: Option<(String, String, u64)> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|err| multipart_error(&err, limit))?
    {
        match field.name() {
            Some("client_msg_id") => match field.text().await {
                Ok(text)
                    if !text.is_empty()
                        && text.len() <= porchlight_protocol::MAX_CLIENT_MSG_ID_BYTES =>
                {
                    client_msg_id = Some(text);
                }
                _ => return Err(bad_upload("client_msg_id must be 1 to 64 bytes.")),
            },
            Some("file") if stored.is_none() => {
                let name = clean_name(field.file_name().unwrap_or("file"));
                let key = random_token();
                let size = save(field, &folder.join(&key), limit).await?;
                stored = Some((key, name, size));
            }
            _ => {
                return Err(bad_upload(
                    "Send one field named file (and optionally client_msg_id).",
                ));
            }
        }
    }
    let (key, name, size) =
        stored.ok_or_else(|| bad_upload("Send the file in a field named file."))?;
    Ok(Received {
        key,
        name,
        size,
        client_msg_id,
    })
}

/// `POST /api/v1/conversations/{id}/attachments`.
pub(crate) async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> ApiResult<(StatusCode, Json<ChatMessage>)> {
    let conversation = state
        .store
        .conversation(id)
        .await?
        .ok_or_else(no_such_chat)?;
    let sender = sender(&state, &headers, &conversation).await?;
    let folder = state.config.data_dir.join(FOLDER);
    tokio::fs::create_dir_all(&folder)
        .await
        .map_err(|err| ApiError::internal(&err))?;
    let received = receive(multipart, &folder, state.config.max_upload_bytes).await?;
    let path = folder.join(&received.key);
    let posted = post(&state, id, sender, &received, &path).await;
    if !matches!(&posted, Ok(appended) if !appended.duplicate) {
        let _ = tokio::fs::remove_file(&path).await;
    }
    let appended = posted?;
    if !appended.duplicate {
        announce_message(&state.hub, &appended.message, None);
        if let Some(updated) = state.store.conversation(id).await? {
            announce_conversation(&state.hub, &updated);
        }
    }
    Ok((StatusCode::CREATED, Json(appended.message)))
}

/// Checks the stored file's type and posts it into the chat as a message.
async fn post(
    state: &AppState,
    id: i64,
    sender: Sender,
    received: &Received,
    path: &FsPath,
) -> ApiResult<Appended> {
    let head = head_of(path)
        .await
        .ok_or_else(|| ApiError::internal(&"cannot read a stored upload"))?;
    let content_type = classify(&received.name, &head)
        .map_err(|problem| ApiError::new(ApiCode::FileType, problem.to_string()))?;
    let attachment = AttachmentInfo {
        name: received.name.clone(),
        content_type: content_type.to_owned(),
        size: received.size,
        url: format!("/files/{}", received.key),
    };
    let (author, author_id, author_name) = match sender {
        Sender::Visitor { id } => (Author::Visitor, Some(id), None),
        Sender::Agent { id, name } => (Author::Agent, Some(id), Some(name)),
    };
    let message = NewMessage {
        attachment: Some(attachment),
        ..NewMessage::text(
            id,
            received.client_msg_id.clone(),
            author,
            author_id,
            author_name,
            received.name.clone(),
        )
    };
    let file = StoredAttachment {
        conversation_id: id,
        storage_key: received.key.clone(),
        name: received.name.clone(),
        content_type: content_type.to_owned(),
        size: received.size,
    };
    state
        .store
        .add_attachment(file, message)
        .await
        .map_err(|err| match err {
            StoreError::NotJoined => not_joined(),
            other => other.into(),
        })
}

fn multipart_error(err: &axum::extract::multipart::MultipartError, limit: u64) -> ApiError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(limit)
    } else {
        bad_upload("The upload is not valid multipart form data.")
    }
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        ApiCode::TooLarge,
        format!("Files are limited to {} MB.", limit / (1024 * 1024)),
    )
}

/// Streams the field to `path`; refuses (and removes) a file over `limit` bytes.
async fn save(
    mut field: axum::extract::multipart::Field<'_>,
    path: &FsPath,
    limit: u64,
) -> ApiResult<u64> {
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(|err| ApiError::internal(&err))?;
    let mut size: u64 = 0;
    let outcome = loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                size += chunk.len() as u64;
                if size > limit {
                    break Err(too_large(limit));
                }
                if let Err(err) = file.write_all(&chunk).await {
                    break Err(ApiError::internal(&err));
                }
            }
            Ok(None) => {
                break file
                    .flush()
                    .await
                    .map(|()| size)
                    .map_err(|err| ApiError::internal(&err));
            }
            Err(err) => break Err(multipart_error(&err, limit)),
        }
    };
    if outcome.is_err() {
        let _ = tokio::fs::remove_file(path).await;
    }
    outcome
}

async fn head_of(path: &FsPath) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(path).await.ok()?;
    let mut head = vec![0; 512];
    let read = file.read(&mut head).await.ok()?;
    head.truncate(read);
    Some(head)
}

/// `GET /files/{key}`: the file, as a download (pictures inline), sandboxed.
pub(crate) async fn download(State(state): State<AppState>, Path(key): Path<String>) -> Response {
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
