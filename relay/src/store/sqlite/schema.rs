//! Migrations, applied in order by `PRAGMA user_version`. Never edit a shipped
//! migration: add a new one.

use rusqlite::Connection;

use crate::store::StoreError;

const MIGRATIONS: &[&str] = &[
    // 1: the foundation.
    r#"
    CREATE TABLE sites (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        allowed_origins TEXT NOT NULL DEFAULT '[]',
        default_profile_id INTEGER,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE profiles (
        id INTEGER PRIMARY KEY,
        site_id INTEGER NOT NULL REFERENCES sites(id),
        name TEXT NOT NULL,
        definition TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (site_id, name)
    );
    CREATE TABLE teams (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE statuses (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        counts_online INTEGER NOT NULL
    );
    CREATE TABLE agents (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'agent')),
        password_hash TEXT NOT NULL,
        status_id INTEGER REFERENCES statuses(id),
        max_chats INTEGER,
        access_level TEXT NOT NULL DEFAULT 'all' CHECK (access_level IN ('own', 'team', 'all')),
        created_at INTEGER NOT NULL
    );
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE participants (
        conversation_id INTEGER NOT NULL REFERENCES conversations(id),
        agent_id INTEGER NOT NULL REFERENCES agents(id),
        joined_at INTEGER NOT NULL,
        PRIMARY KEY (conversation_id, agent_id)
    );
    CREATE TABLE team_members (
        team_id INTEGER NOT NULL REFERENCES teams(id),
        agent_id INTEGER NOT NULL REFERENCES agents(id),
        PRIMARY KEY (team_id, agent_id)
    );
    CREATE TABLE agent_sessions (
        token_hash TEXT PRIMARY KEY,
        agent_id INTEGER NOT NULL REFERENCES agents(id),
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE TABLE visitors (
        id INTEGER PRIMARY KEY,
        site_id INTEGER NOT NULL REFERENCES sites(id),
        token_hash TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE conversations (
        id INTEGER PRIMARY KEY,
        site_id INTEGER NOT NULL REFERENCES sites(id),
        visitor_id INTEGER NOT NULL REFERENCES visitors(id),
        profile_id INTEGER REFERENCES profiles(id),
        status TEXT NOT NULL CHECK (status IN ('bot', 'queued', 'active', 'ended')),
        current_step TEXT,
        flow_state TEXT,
        agent_id INTEGER REFERENCES agents(id),
        agent_name TEXT,
        created_at INTEGER NOT NULL,
        queued_at INTEGER,
        agent_joined_at INTEGER,
        queue_ms INTEGER,
        ended_at INTEGER,
        ended_by TEXT,
        ticket_id INTEGER,
        teams TEXT NOT NULL DEFAULT '[]',
        target_agent_id INTEGER REFERENCES agents(id),
        last_seq INTEGER NOT NULL DEFAULT 0,
        page_url TEXT,
        referrer TEXT
    );
    CREATE INDEX conversations_open ON conversations(status) WHERE status <> 'ended';
    CREATE INDEX conversations_by_visitor ON conversations(visitor_id, id);
    CREATE INDEX conversations_by_agent ON conversations(agent_id, status);
    CREATE INDEX participants_by_agent ON participants(agent_id);
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id),
        seq INTEGER NOT NULL,
        author_kind TEXT NOT NULL CHECK (author_kind IN ('visitor', 'agent', 'bot', 'system')),
        author_id INTEGER,
        author_name TEXT,
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        value TEXT,
        step_id TEXT,
        client_msg_id TEXT,
        created_at INTEGER NOT NULL,
        UNIQUE (conversation_id, seq),
        UNIQUE (conversation_id, client_msg_id)
    );
    CREATE TABLE tickets (
        id INTEGER PRIMARY KEY,
        site_id INTEGER NOT NULL REFERENCES sites(id),
        visitor_id INTEGER REFERENCES visitors(id),
        subject TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open',
        created_at INTEGER NOT NULL
    );
    "#,
    // 2: canned text, and the visitor's browser for the agent's context panel.
    r#"
    CREATE TABLE canned_texts (
        id INTEGER PRIMARY KEY,
        group_name TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (group_name, title)
    );
    ALTER TABLE conversations ADD COLUMN user_agent TEXT;
    "#,
    // 3: attachments, and who may send them.
    r#"
    CREATE TABLE attachments (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id),
        storage_key TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    );
    ALTER TABLE messages ADD COLUMN attachment TEXT;
    ALTER TABLE conversations ADD COLUMN upload_policy TEXT NOT NULL DEFAULT 'prevent'
        CHECK (upload_policy IN ('prevent', 'allow', 'identified'));
    ALTER TABLE conversations ADD COLUMN uploads_switchable INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversations ADD COLUMN visitor_uploads INTEGER;
    ALTER TABLE agents ADD COLUMN can_toggle_uploads INTEGER NOT NULL DEFAULT 0;
    "#,
    // 4: tickets get a team and an assigned agent ("through tickets" live chat).
    r#"
    ALTER TABLE tickets ADD COLUMN team TEXT;
    ALTER TABLE tickets ADD COLUMN agent_id INTEGER REFERENCES agents(id);
    CREATE INDEX conversations_by_ticket ON conversations(ticket_id);
    "#,
    // 5: an agent's default team (one of their teams).
    r#"
    ALTER TABLE agents ADD COLUMN default_team TEXT;
    "#,
    // 6: recent queue times for $WAITTIME, read at start without a scan.
    r#"
    CREATE INDEX conversations_joined ON conversations(agent_joined_at)
        WHERE agent_joined_at IS NOT NULL;
    "#,
    // 7: reports read conversations by the day they started.
    r#"
    CREATE INDEX conversations_created ON conversations(created_at);
    "#,
    // 8: waiting timers (wait messages, "are you still there?", abandoned chats).
    r#"
    ALTER TABLE conversations ADD COLUMN wait_messages_sent INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversations ADD COLUMN still_there_asked_at INTEGER;
    ALTER TABLE conversations ADD COLUMN still_there_at INTEGER;
    ALTER TABLE conversations ADD COLUMN abandoned INTEGER NOT NULL DEFAULT 0;
    "#,
    // 9: notes on tickets (a linked chat's transcript when it ends).
    r#"
    CREATE TABLE ticket_notes (
        id INTEGER PRIMARY KEY,
        ticket_id INTEGER NOT NULL REFERENCES tickets(id),
        conversation_id INTEGER REFERENCES conversations(id),
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX ticket_notes_by_ticket ON ticket_notes(ticket_id);
    "#,
    // 10: each site's secret, with which its server signs links to tickets.
    r#"
    ALTER TABLE sites ADD COLUMN secret TEXT NOT NULL DEFAULT '';
    UPDATE sites SET secret = lower(hex(randomblob(32))) WHERE secret = '';
    "#,
    // 11: ticket category fields (admin-defined, each with its values).
    r#"
    CREATE TABLE ticket_categories (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        choices TEXT NOT NULL
    );
    CREATE TABLE ticket_category_values (
        ticket_id INTEGER NOT NULL REFERENCES tickets(id),
        category_id INTEGER NOT NULL REFERENCES ticket_categories(id),
        value TEXT NOT NULL,
        PRIMARY KEY (ticket_id, category_id)
    );
    "#,
    // 12: knowledge (documents, passages, their keyword index and vectors), and the
    // sources an AI answer cites.
    r#"
    CREATE TABLE kb_documents (
        id INTEGER PRIMARY KEY,
        site_id INTEGER NOT NULL REFERENCES sites(id),
        source TEXT NOT NULL,
        title TEXT NOT NULL,
        format TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (site_id, source)
    );
    CREATE TABLE kb_chunks (
        id INTEGER PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES kb_documents(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        -- The heading path, for display; `section` is its last part, for search (the
        -- path repeats the title in every passage, which would drown the ranking).
        heading TEXT NOT NULL,
        section TEXT NOT NULL,
        anchor TEXT,
        body TEXT NOT NULL,
        embedding BLOB,
        embedding_model TEXT
    );
    CREATE INDEX kb_chunks_document ON kb_chunks(document_id);
    CREATE VIRTUAL TABLE kb_fts USING fts5(
        section, body, content='kb_chunks', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER kb_chunks_indexed AFTER INSERT ON kb_chunks BEGIN
        INSERT INTO kb_fts(rowid, section, body) VALUES (new.id, new.section, new.body);
    END;
    CREATE TRIGGER kb_chunks_unindexed AFTER DELETE ON kb_chunks BEGIN
        INSERT INTO kb_fts(kb_fts, rowid, section, body)
            VALUES ('delete', old.id, old.section, old.body);
    END;
    ALTER TABLE messages ADD COLUMN sources TEXT;
    "#,
    // 13: what the AI agent has answered, kept so a restart resets no cap: per chat
    // (with its low-confidence answers), per visitor per day, per site per day.
    r#"
    ALTER TABLE conversations ADD COLUMN ai_answers INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversations ADD COLUMN ai_failed INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE ai_visitor_usage (
        visitor_id INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
        day INTEGER NOT NULL,
        answers INTEGER NOT NULL,
        PRIMARY KEY (visitor_id, day)
    ) WITHOUT ROWID;
    CREATE TABLE ai_site_usage (
        site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
        day INTEGER NOT NULL,
        model_calls INTEGER NOT NULL,
        PRIMARY KEY (site_id, day)
    ) WITHOUT ROWID;
    "#,
    // 14: accounts that end: a one-time password must be changed at first login and
    // expires unused; an agent can be deactivated.
    r#"
    ALTER TABLE agents ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE agents ADD COLUMN password_expires_at INTEGER;
    ALTER TABLE agents ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
    CREATE INDEX agent_sessions_by_agent ON agent_sessions (agent_id);
    "#,
    // 15: private notes, apart from messages so no visitor-facing read can reach them.
    r#"
    CREATE TABLE notes (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        client_msg_id TEXT NOT NULL,
        agent_id INTEGER REFERENCES agents(id) ON DELETE SET NULL,
        agent_name TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (conversation_id, client_msg_id)
    );
    "#,
    // 16: agents search every chat: messages in a full-text index (filled from the
    // messages already stored), chats by when they started.
    r#"
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        body, content='messages', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    );
    INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
    CREATE TRIGGER messages_indexed AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
    END;
    CREATE TRIGGER messages_unindexed AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    END;
    CREATE TRIGGER messages_reindexed AFTER UPDATE OF body ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
        INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
    END;
    CREATE INDEX conversations_by_start ON conversations (created_at);
    "#,
    // 17: visitors rate a chat once it ended.
    r#"
    ALTER TABLE conversations ADD COLUMN rating INTEGER CHECK (rating BETWEEN 1 AND 5);
    ALTER TABLE conversations ADD COLUMN rating_comment TEXT;
    ALTER TABLE conversations ADD COLUMN rated_at INTEGER;
    "#,
    // 18: data rights: each site may delete its ended chats after some days; a visitor's
    // data can be erased, with a record that it was; files whose rows are gone wait in
    // a list until they are off the disk.
    r#"
    ALTER TABLE sites ADD COLUMN retention_days INTEGER CHECK (retention_days > 0);
    CREATE INDEX conversations_ended ON conversations(site_id, ended_at) WHERE status = 'ended';
    CREATE INDEX tickets_by_visitor ON tickets(visitor_id);
    CREATE INDEX attachments_by_conversation ON attachments(conversation_id);
    CREATE INDEX ticket_notes_by_conversation ON ticket_notes(conversation_id);
    CREATE TABLE erasures (
        id INTEGER PRIMARY KEY,
        site_id INTEGER NOT NULL REFERENCES sites(id),
        visitor_id INTEGER NOT NULL,
        by_name TEXT NOT NULL,
        conversations INTEGER NOT NULL,
        messages INTEGER NOT NULL,
        files INTEGER NOT NULL,
        tickets INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE files_to_delete (storage_key TEXT PRIMARY KEY) WITHOUT ROWID;
    "#,
    // 19: a team may assign its waiting chats instead of ringing them.
    r#"
    ALTER TABLE teams ADD COLUMN assignment TEXT NOT NULL DEFAULT 'ring'
        CHECK (assignment IN ('ring', 'round_robin', 'least_busy'));
    "#,
    // 20: the email outbox: queued in the same transaction as what it announces, sent
    // (and retried) by the relay afterwards.
    r#"
    CREATE TABLE emails (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        ticket_id INTEGER,
        to_addr TEXT,
        subject TEXT,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at INTEGER NOT NULL,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        sent_at INTEGER
    );
    CREATE INDEX emails_due ON emails(next_at) WHERE status = 'pending';
    "#,
    // 21: a chat's transcript emailed to its visitor; an erasure or retention finds a
    // chat's or ticket's emails by index.
    r#"
    ALTER TABLE emails ADD COLUMN conversation_id INTEGER;
    CREATE INDEX emails_by_conversation ON emails(conversation_id);
    CREATE INDEX emails_by_ticket ON emails(ticket_id);
    "#,
    // 22: an email written when it was queued (a ticket's acknowledgement to the visitor).
    r#"
    ALTER TABLE emails ADD COLUMN body TEXT;
    "#,
    // 23: agents reply on tickets by email: the requester's address when the ticket was
    // opened with one, and who wrote each reply.
    r#"
    ALTER TABLE tickets ADD COLUMN requester_email TEXT;
    ALTER TABLE ticket_notes ADD COLUMN agent_id INTEGER REFERENCES agents(id);
    "#,
    // 24: the visitor's browser language, so an agent can reply in it.
    r#"
    ALTER TABLE visitors ADD COLUMN language TEXT;
    "#,
    // 25: who the site says the visitor is (the identify API). A proven user id is one
    // visitor per site, whichever browser they come from.
    r#"
    ALTER TABLE visitors ADD COLUMN user_id TEXT;
    ALTER TABLE visitors ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE visitors ADD COLUMN email TEXT;
    ALTER TABLE visitors ADD COLUMN company TEXT;
    ALTER TABLE visitors ADD COLUMN traits TEXT;
    ALTER TABLE visitors ADD COLUMN context TEXT;
    ALTER TABLE visitors ADD COLUMN identified_at INTEGER;
    CREATE UNIQUE INDEX visitors_verified_user ON visitors (site_id, user_id) WHERE verified = 1;
    ALTER TABLE sites ADD COLUMN require_verified_identity INTEGER NOT NULL DEFAULT 0;
    "#,
    // 26: keys for the site's own servers (the REST API under /api/v1), stored hashed.
    r#"
    CREATE TABLE api_keys (
        id INTEGER PRIMARY KEY,
        site_id INTEGER NOT NULL REFERENCES sites(id),
        name TEXT NOT NULL,
        prefix TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        scope TEXT NOT NULL CHECK (scope IN ('read', 'read_write')),
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at INTEGER
    );
    CREATE INDEX api_keys_site ON api_keys (site_id);
    "#,
    // 27: notes a site's server adds to a ticket, under the name it gives.
    r#"
    ALTER TABLE ticket_notes ADD COLUMN author_name TEXT;
    "#,
    // 28: webhooks from chat. `webhook_events` is the outbox, written in the same
    // transaction as the event; the sender gathers events into deliveries (one
    // request each, with its own webhook-id) before the first try.
    include_str!("schema/28_webhooks.sql"),
    // 29: the console lists the latest ended chats at every hello, newest first: read
    // from the end of an index rather than sorting every ended chat. Each chat keeps
    // when an agent first wrote, which reports read (looking for it among every chat's
    // messages took most of a 90-day report's time).
    r#"
    CREATE INDEX conversations_recently_ended ON conversations(ended_at) WHERE status = 'ended';
    ALTER TABLE conversations ADD COLUMN first_response_at INTEGER;
    UPDATE conversations SET first_response_at = (
        SELECT MIN(m.created_at) FROM messages m
        WHERE m.conversation_id = conversations.id AND m.author_kind = 'agent' AND m.kind = 'text'
    ) WHERE agent_joined_at IS NOT NULL;
    "#,
    // 30: a count that moves whenever a passage or its vector changes, in the changing
    // transaction, so a relay's copy of the vectors in memory knows it is out of date
    // (also after a change by another process).
    include_str!("schema/30_kb_generation.sql"),
    // 31: which participations are in open chats, kept by triggers, so an agent's load
    // reads their open ones only, however many chats they sat in before.
    include_str!("schema/31_participants_open.sql"),
    // 32: reports read sums per day, kept by triggers, not every chat in the range.
    include_str!("schema/32_report_sums.sql"),
    // 33: migrations 7 and 16 both indexed `conversations(created_at)`; every chat
    // opened wrote both.
    r#"
    DROP INDEX IF EXISTS conversations_by_start;
    "#,
];

/// The schema version this build writes.
pub(crate) const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Brings the database up to [`SCHEMA_VERSION`], one transaction per migration. A
/// database from a newer build is refused rather than half understood.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::Backend(format!(
            "the data folder was written by a newer Porchlight (schema {current}; this one knows up to {SCHEMA_VERSION})"
        )));
    }
    if current < SCHEMA_VERSION {
        // Schema 32 adds up every stored chat: the operator hears why start waits.
        tracing::info!(current, SCHEMA_VERSION, "updating the data folder's schema");
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
