use super::*;

#[test]
fn a_version_one_database_keeps_its_chats_when_migrated() {
    let mut conn = Connection::open_in_memory().unwrap();
    let tx = conn.transaction().unwrap();
    tx.execute_batch(MIGRATIONS[0]).unwrap();
    tx.pragma_update(None, "user_version", 1).unwrap();
    tx.execute_batch(
        "INSERT INTO sites (key, name, created_at) VALUES ('demo', 'Demo', 1);
         INSERT INTO visitors (site_id, token_hash, display_name, created_at)
             VALUES (1, 'h', 'Visitor 1', 1);
         INSERT INTO conversations (site_id, visitor_id, status, created_at, page_url)
             VALUES (1, 1, 'queued', 1, 'https://example.com/');
         INSERT INTO messages (conversation_id, seq, author_kind, kind, body, created_at)
             VALUES (1, 1, 'visitor', 'text', 'My sink is leaking', 1);
         INSERT INTO conversations (site_id, visitor_id, status, created_at, agent_joined_at)
             VALUES (1, 1, 'ended', 1, 3);
         INSERT INTO messages (conversation_id, seq, author_kind, kind, body, created_at)
             VALUES (2, 1, 'visitor', 'text', 'Hello?', 2),
                    (2, 2, 'agent', 'text', 'Hi, I am here', 5),
                    (2, 3, 'agent', 'text', 'How can I help?', 9);
         INSERT INTO agents (email, name, role, password_hash, created_at)
             VALUES ('ana@example.com', 'Ana', 'agent', 'x', 1);
         INSERT INTO participants (conversation_id, agent_id, joined_at)
             VALUES (1, 1, 2), (2, 1, 3);",
    )
    .unwrap();
    tx.commit().unwrap();

    migrate(&mut conn).unwrap();
    let version: usize = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let (page, agent): (String, Option<String>) = conn
        .query_row(
            "SELECT page_url, user_agent FROM conversations WHERE id = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!((page.as_str(), agent), ("https://example.com/", None));
    let canned: i64 = conn
        .query_row("SELECT count(*) FROM canned_texts", [], |row| row.get(0))
        .unwrap();
    assert_eq!(canned, 0);
    let found: i64 = conn
        .query_row(
            "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'leak*'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(
        found, 1,
        "messages stored before search came are searchable"
    );
    let first_responses: Vec<Option<i64>> = conn
        .prepare("SELECT first_response_at FROM conversations ORDER BY id")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        first_responses,
        [None, Some(5)],
        "the first agent message, kept"
    );

    let open: Vec<i64> = conn
        .prepare("SELECT open FROM participants ORDER BY conversation_id")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(open, [1, 0], "a participation in an ended chat is not open");

    // Kept from then on: a chat ending closes its participations, and one added to an
    // ended chat (an import) starts closed.
    conn.execute_batch(
        "UPDATE conversations SET status = 'ended' WHERE id = 1;
         INSERT INTO conversations (site_id, visitor_id, status, created_at)
             VALUES (1, 1, 'ended', 1);
         INSERT INTO participants (conversation_id, agent_id, joined_at) VALUES (3, 1, 4);",
    )
    .unwrap();
    let still_open: i64 = conn
        .query_row(
            "SELECT count(*) FROM participants WHERE open = 1",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(still_open, 0);
}

/// Two indexes over the same columns (and the same condition) double every write to
/// them and serve no read the other does not.
#[test]
fn no_two_indexes_cover_the_same_columns() {
    let mut conn = Connection::open_in_memory().unwrap();
    migrate(&mut conn).unwrap();
    let mut statement = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        .unwrap();
    let indexes: Vec<(String, String)> = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // What an index covers: its text from ON, without spaces or case.
    let covered = |sql: &str| -> String {
        let lower = sql.to_lowercase();
        let from = lower.find(" on ").unwrap_or(0);
        lower[from..].split_whitespace().collect()
    };
    let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for (name, sql) in &indexes {
        if let Some(other) = seen.insert(covered(sql), name.clone()) {
            panic!("{name} and {other} cover the same columns");
        }
    }
    assert!(seen.len() > 10, "the schema's indexes were read: {seen:?}");
}
