//! The CSV exports: a line per chat or message, written a page at a time.

use jiff::Timestamp;

use super::abandoned;
use crate::store::{ChatRecord, MessageRecord};

/// One CSV field: quoted when it must be, and never read as a formula by a
/// spreadsheet (a leading `=`, `+`, `-`, `@` or tab gets a `'`).
pub fn csv_field(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

fn time(ms: Option<i64>) -> String {
    ms.and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .map(|at| at.to_string())
        .unwrap_or_default()
}

fn seconds(ms: Option<i64>) -> String {
    ms.map(|ms| format!("{}", ms / 1000)).unwrap_or_default()
}

/// Appends `rows` to `out`, a line each.
fn csv_lines(out: &mut String, rows: impl Iterator<Item = Vec<String>>) {
    for row in rows {
        let fields: Vec<String> = row.iter().map(|field| csv_field(field)).collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
}

/// The chats export's first line; [`chats_csv`] adds a line per chat (an export is
/// written a page of chats at a time).
pub const CHATS_CSV_HEADER: &str = "id,created_at,status,visitor,agent,teams,queued_at,\
     agent_joined_at,queue_seconds,ended_at,ended_by,abandoned,first_response_seconds,\
     messages,page_url,ticket_id\n";

pub fn chats_csv(out: &mut String, chats: &[ChatRecord]) {
    csv_lines(
        out,
        chats.iter().map(|chat| {
            vec![
                chat.id.to_string(),
                time(Some(chat.created_at)),
                chat.status.as_str().to_owned(),
                chat.visitor_name.clone(),
                chat.agent_name.clone().unwrap_or_default(),
                chat.teams.join(";"),
                time(chat.queued_at),
                time(chat.agent_joined_at),
                seconds(chat.queue_ms),
                time(chat.ended_at),
                chat.ended_by.clone().unwrap_or_default(),
                abandoned(chat).to_string(),
                seconds(
                    chat.first_response_at
                        .zip(chat.queued_at)
                        .map(|(first, queued)| first - queued),
                ),
                chat.messages.to_string(),
                chat.page_url.clone().unwrap_or_default(),
                chat.ticket_id.map(|id| id.to_string()).unwrap_or_default(),
            ]
        }),
    )
}

pub const MESSAGES_CSV_HEADER: &str =
    "conversation_id,seq,created_at,author,author_name,kind,body\n";

pub fn messages_csv(out: &mut String, messages: &[MessageRecord]) {
    csv_lines(
        out,
        messages.iter().map(|message| {
            vec![
                message.conversation_id.to_string(),
                message.seq.to_string(),
                time(Some(message.created_at)),
                message.author.clone(),
                message.author_name.clone().unwrap_or_default(),
                message.kind.clone(),
                message.body.clone(),
            ]
        }),
    )
}
