//! Files in chats. `POST /api/v1/conversations/{id}/attachments` takes one file
//! (multipart field `file`, optional field `client_msg_id`) from the visitor (their
//! token as `Authorization: Bearer`) when the chat allows visitor uploads, or from an
//! agent in the chat (session cookie, console origin). The file must be on the type
//! allowlist, and its first bytes must match its type; it is stored under a random
//! name in `DATA/attachments/` and posted as a message. `GET /files/{key}` serves it
//! as a download (pictures inline), never as HTML or SVG.

use std::net::IpAddr;
use std::path::Path as FsPath;
use std::time::Instant;

use axum::Json;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use porchlight_protocol::api::ApiCode;
use porchlight_protocol::{AttachmentInfo, Author, ChatMessage, ConversationStatus, Identity};
use tokio::io::AsyncWriteExt;

use super::v1::Id;
use crate::attachments::{AttachmentsDir, Incoming};
use crate::auth::identity;
use crate::auth::{ClientIp, current_agent, is_token, same_origin, token_hash};
use crate::chat::events::{announce_conversation, announce_message};
use crate::chat::files::{classify, clean_name};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{
    Appended, Conversation, NewMessage, Role, StoreError, StoredAttachment, Visitor, now_ms,
};
use crate::throttle::retry_in;

/// The chat is this visitor's: their own, or (from any browser) the chat of the
/// user the site proved they are, with a live proof in `Porchlight-Identity` (the
/// JWT, or the hex HMAC of the user id). A proven user's chat takes nothing without
/// one.
async fn visitors_chat(
    state: &AppState,
    headers: &HeaderMap,
    visitor: &Visitor,
    conversation: &Conversation,
) -> ApiResult<bool> {
    let Some(user_id) = conversation
        .visitor_user_id
        .clone()
        .filter(|_| conversation.visitor_verified)
    else {
        return Ok(visitor.id == conversation.visitor_id);
    };
    let proof = headers
        .get(IDENTITY_HEADER)
        .and_then(|value| value.to_str().ok());
    let site = state.store.site(conversation.site_id).await?;
    let (Some(proof), Some(site)) = (proof, site) else {
        return Err(identity_refused());
    };
    let claim = Identity {
        user_id,
        token: Some(proof.to_owned()),
        ..Identity::default()
    };
    match identity::check(&site.secret, &claim, true, now_ms()) {
        Ok(_) => Ok(true),
        Err(_) => Err(identity_refused()),
    }
}

/// Carries the proof of who a visitor is, for a file in their proven chat.
const IDENTITY_HEADER: &str = "porchlight-identity";

fn identity_refused() -> ApiError {
    ApiError::new(
        ApiCode::IdentityRefused,
        "This chat belongs to an identified visitor: send a live identity token in Porchlight-Identity.",
    )
}

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
        let Some(visitor) = visitor else {
            return Err(no_such_chat());
        };
        if !visitors_chat(state, headers, &visitor, conversation).await? {
            return Err(no_such_chat());
        }
        return if conversation.uploads_allowed() {
            Ok(Sender::Visitor { id: visitor.id })
        } else {
            Err(ApiError::new(
                ApiCode::UploadsOff,
                "Files cannot be sent in this chat.",
            ))
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

/// A file received under its random key (still a part file), with the name it was
/// sent as.
struct Received {
    file: Incoming,
    name: String,
    size: u64,
    client_msg_id: Option<String>,
}

/// Reads the multipart fields: one `file` (written as it streams in) and an optional
/// `client_msg_id`. On any refusal the part file goes with the returned error.
async fn receive(
    mut multipart: Multipart,
    attachments: &AttachmentsDir,
    limit: u64,
) -> ApiResult<Received> {
    let mut client_msg_id = None;
    let mut stored: Option<(Incoming, String, u64)> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|err| multipart_error(&err, limit))?
    {
        match field.name() {
            Some("client_msg_id") => match field.text().await {
                Ok(text) if porchlight_protocol::usable_client_msg_id(&text) => {
                    client_msg_id = Some(text);
                }
                _ => {
                    return Err(bad_upload(
                        "client_msg_id must be 1 to 64 bytes, without control characters.",
                    ));
                }
            },
            Some("file") if stored.is_none() => {
                let name = clean_name(field.file_name().unwrap_or("file"));
                let mut file = attachments
                    .incoming()
                    .await
                    .map_err(|err| ApiError::internal(&err))?;
                let size = save(field, &mut file, limit).await?;
                stored = Some((file, name, size));
            }
            _ => {
                return Err(bad_upload(
                    "Send one field named file (and optionally client_msg_id).",
                ));
            }
        }
    }
    let (file, name, size) =
        stored.ok_or_else(|| bad_upload("Send the file in a field named file."))?;
    Ok(Received {
        file,
        name,
        size,
        client_msg_id,
    })
}

/// `POST /api/v1/conversations/{id}/attachments`: the widget's and the console's file
/// uploads (a visitor's token or an agent's session, not an API key).
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/attachments",
    tag = "public",
    params(("id" = i64, Path, description = "The conversation's id")),
    request_body(content_type = "multipart/form-data", description = "`file`, and optionally `client_msg_id`"),
    responses(
        (status = 201, description = "The file, posted as a message", body = ChatMessage),
        (status = 400, body = porchlight_protocol::api::ApiError),
        (status = 403, body = porchlight_protocol::api::ApiError),
        (status = 404, body = porchlight_protocol::api::ApiError),
        (status = 413, body = porchlight_protocol::api::ApiError),
        (status = 415, body = porchlight_protocol::api::ApiError),
        (status = 429, body = porchlight_protocol::api::ApiError),
    )
)]
pub(crate) async fn upload(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Id(id): Id,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<ChatMessage>)> {
    let multipart = multipart
        .map_err(|_| bad_upload("Send the file as multipart/form-data, in a field named file."))?;
    let conversation = state
        .store
        .conversation(id)
        .await?
        .ok_or_else(no_such_chat)?;
    let sender = sender(&state, &headers, &conversation).await?;
    if let Sender::Visitor { id: visitor } = sender {
        within_limits(&state, visitor, ip)?;
    }
    let attachments = AttachmentsDir::new(&state.config.data_dir);
    let received = receive(multipart, &attachments, state.config.max_upload_bytes).await?;
    let posted = post(&state, id, sender, &received).await;
    if let Ok(appended) = &posted
        && !appended.duplicate
        && let Err(err) = received.file.keep().await
    {
        // The row is in; the part file stays for the next start to finish.
        tracing::error!(error = %err, "cannot name a stored upload");
    }
    let appended = posted?;
    if !appended.duplicate {
        announce_message(&state, &appended.message, None);
        if let Some(updated) = state.store.conversation(id).await? {
            announce_conversation(&state.hub, &updated);
        }
    }
    Ok((StatusCode::CREATED, Json(appended.message)))
}

/// A visitor's files are counted per visitor and per address before any is read.
fn within_limits(state: &AppState, visitor: i64, ip: IpAddr) -> ApiResult<()> {
    let now = Instant::now();
    let throttles = &state.throttles;
    throttles
        .uploads_per_visitor
        .take(&visitor, now)
        .and_then(|()| throttles.uploads_per_ip.take(&ip, now))
        .map_err(|wait| {
            ApiError::new(
                ApiCode::RateLimited,
                format!(
                    "That is a lot of files at once; send more {}.",
                    retry_in(wait)
                ),
            )
        })
}

/// Checks the stored file's type and posts it into the chat as a message.
async fn post(
    state: &AppState,
    id: i64,
    sender: Sender,
    received: &Received,
) -> ApiResult<Appended> {
    let head = head_of(received.file.part_path())
        .await
        .ok_or_else(|| ApiError::internal(&"cannot read a stored upload"))?;
    let content_type = classify(&received.name, &head)
        .map_err(|problem| ApiError::new(ApiCode::FileType, problem.to_string()))?;
    let attachment = AttachmentInfo {
        name: received.name.clone(),
        content_type: content_type.to_owned(),
        size: received.size,
        url: format!("/files/{}", received.file.key()),
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
        storage_key: received.file.key().to_owned(),
        name: received.name.clone(),
        content_type: content_type.to_owned(),
        size: received.size,
    };
    // A store that keeps files gets the bytes in the row's transaction, so any node
    // serves the file from the moment it is acknowledged.
    let content = match state.store.keeps_files() {
        true => Some(
            tokio::fs::read(received.file.part_path())
                .await
                .map_err(|err| ApiError::internal(&err))?,
        ),
        false => None,
    };
    state
        .store
        .add_attachment(file, content, message)
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

/// Streams the field into `file`; refuses a file over `limit` bytes (the part file
/// goes when `file` is dropped).
async fn save(
    mut field: axum::extract::multipart::Field<'_>,
    file: &mut Incoming,
    limit: u64,
) -> ApiResult<u64> {
    let mut size: u64 = 0;
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|err| multipart_error(&err, limit))?
    {
        size += chunk.len() as u64;
        if size > limit {
            return Err(too_large(limit));
        }
        let Some(writer) = file.file() else {
            return Err(ApiError::internal(&"the upload was closed early"));
        };
        writer
            .write_all(&chunk)
            .await
            .map_err(|err| ApiError::internal(&err))?;
    }
    file.written()
        .await
        .map_err(|err| ApiError::internal(&err))?;
    Ok(size)
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
    let files = AttachmentsDir::new(&state.config.data_dir);
    let Ok(bytes) = files.read(state.store.as_ref(), &file.storage_key).await else {
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
