//! A visitor's data rights: an admin exports everything stored about one visitor (JSON,
//! with their files) or erases it, and sees the record of erasures. Admins only;
//! erasing only from the console's own origin.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use porchlight_protocol::ChatMessage;
use porchlight_protocol::api::ApiCode;
use porchlight_protocol::api::visitors::{Erasure, ExportedChat, ExportedFile, VisitorExport};

use crate::attachments::AttachmentsDir;
use crate::auth::{Admin, AdminWriting};
use crate::error::{ApiError, ApiResult};
use crate::flow::FlowState;
use crate::state::AppState;
use crate::store::erasure::VisitorRecords;
use crate::store::{Conversation, Store, StoreError, now_ms};

fn no_visitor() -> ApiError {
    ApiError::not_found("No visitor has that id (or their data was erased).")
}

/// `GET /api/admin/visitors/{id}/export`: a download of `visitor-ID.json`.
pub(crate) async fn export(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let records = state
        .store
        .visitor_records(id)
        .await?
        .ok_or_else(no_visitor)?;
    let files = AttachmentsDir::new(&state.config.data_dir);
    let export = export_of(records, &files, state.store.as_ref()).await?;
    let disposition = format!("attachment; filename=\"visitor-{id}.json\"");
    Ok(([(header::CONTENT_DISPOSITION, disposition)], Json(export)).into_response())
}

async fn export_of(
    records: VisitorRecords,
    files: &AttachmentsDir,
    store: &dyn Store,
) -> ApiResult<VisitorExport> {
    let mut exported_files = Vec::with_capacity(records.files.len());
    for file in records.files {
        let bytes = files
            .read(store, &file.storage_key)
            .await
            .map_err(|err| ApiError::internal(&err))?;
        exported_files.push(ExportedFile {
            conversation_id: file.conversation_id,
            name: file.name,
            content_type: file.content_type,
            size: file.size,
            base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        });
    }
    Ok(VisitorExport {
        visitor: records.visitor,
        conversations: records
            .conversations
            .into_iter()
            .map(|(chat, messages)| exported_chat(chat, messages))
            .collect(),
        tickets: records.tickets,
        files: exported_files,
        exported_at: now_ms(),
    })
}

fn exported_chat(chat: Conversation, messages: Vec<ChatMessage>) -> ExportedChat {
    let answers = chat
        .flow_state
        .as_deref()
        .and_then(|json| serde_json::from_str::<FlowState>(json).ok())
        .map(|flow| flow.variables)
        .unwrap_or_default();
    ExportedChat {
        id: chat.id,
        status: chat.status,
        started_at: chat.created_at,
        ended_at: chat.ended_at,
        page_url: chat.page_url,
        referrer: chat.referrer,
        browser: chat.user_agent,
        answers,
        rating: chat.rating,
        rating_comment: chat.rating_comment,
        messages,
    }
}

/// `DELETE /api/admin/visitors/{id}`: erases the visitor's data and records it.
pub(crate) async fn erase(
    State(state): State<AppState>,
    AdminWriting(admin): AdminWriting,
    Path(id): Path<i64>,
) -> ApiResult<Json<Erasure>> {
    let erased = state
        .store
        .erase_visitor(id, admin.name.clone())
        .await
        .map_err(|err| match err {
            StoreError::Conflict => ApiError::new(
                ApiCode::ChatOpen,
                "The visitor has a chat waiting for or with an agent; end it first.",
            ),
            other => other.into(),
        })?
        .ok_or_else(no_visitor)?;
    for chat in &erased.chats {
        crate::chat::ai::stop(&state, *chat);
    }
    state.hub.drop_visitors_of(&erased.chats);
    // The rows are gone; a file left on disk is removed by the next retention pass.
    if let Err(err) = AttachmentsDir::new(&state.config.data_dir)
        .remove_deleted(state.store.as_ref())
        .await
    {
        tracing::warn!(error = %err, "an erased visitor's files wait for the next pass");
    }
    tracing::info!(visitor = id, by = %admin.name, "a visitor's data was erased");
    Ok(Json(erased.record))
}

/// `GET /api/admin/erasures`: every erasure, newest first.
pub(crate) async fn erasures(
    State(state): State<AppState>,
    _: Admin,
) -> ApiResult<Json<Vec<Erasure>>> {
    Ok(Json(state.store.erasures().await?))
}
