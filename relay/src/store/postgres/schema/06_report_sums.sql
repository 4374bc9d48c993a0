-- A report's sums, kept by a trigger in the transaction that changes a chat, as on
-- SQLite (its migration 32): a report over any range reads a few rows per day and per
-- block of 1, 4, 16 and 64 days (level 0 to 3; block = day / 4^level), never the chats.
CREATE TABLE report_days (
    day BIGINT PRIMARY KEY,
    chats BIGINT NOT NULL,
    queued BIGINT NOT NULL,
    abandoned BIGINT NOT NULL,
    rated BIGINT NOT NULL,
    score_sum BIGINT NOT NULL
);
CREATE TABLE report_hours (
    level BIGINT NOT NULL,
    block BIGINT NOT NULL,
    hour BIGINT NOT NULL,
    chats BIGINT NOT NULL,
    PRIMARY KEY (level, block, hour)
);
CREATE TABLE report_agents (
    level BIGINT NOT NULL,
    block BIGINT NOT NULL,
    agent TEXT NOT NULL,
    chats BIGINT NOT NULL,
    rated BIGINT NOT NULL,
    score_sum BIGINT NOT NULL,
    PRIMARY KEY (level, block, agent)
);
CREATE TABLE report_teams (
    level BIGINT NOT NULL,
    block BIGINT NOT NULL,
    team TEXT NOT NULL,
    chats BIGINT NOT NULL,
    rated BIGINT NOT NULL,
    score_sum BIGINT NOT NULL,
    PRIMARY KEY (level, block, team)
);
CREATE TABLE report_waits (
    level BIGINT NOT NULL,
    block BIGINT NOT NULL,
    measure BIGINT NOT NULL,
    bucket_ms BIGINT NOT NULL,
    chats BIGINT NOT NULL,
    PRIMARY KEY (level, block, measure, bucket_ms)
);

-- A chat's parts in the sums: taken away as it was (sign -1) and added as it is
-- (sign 1); a chat not there (NULL) has none.
CREATE FUNCTION report_parts(was conversations, now_is conversations)
RETURNS TABLE (created_at BIGINT, status TEXT, queued_at BIGINT, agent_joined_at BIGINT,
    queue_ms BIGINT, first_response_at BIGINT, agent_name TEXT, teams TEXT, rating BIGINT,
    sign BIGINT)
LANGUAGE sql IMMUTABLE AS $$
    SELECT (was).created_at, (was).status, (was).queued_at, (was).agent_joined_at,
        (was).queue_ms, (was).first_response_at, (was).agent_name, (was).teams,
        (was).rating, -1 WHERE (was).id IS NOT NULL
    UNION ALL
    SELECT (now_is).created_at, (now_is).status, (now_is).queued_at,
        (now_is).agent_joined_at, (now_is).queue_ms, (now_is).first_response_at,
        (now_is).agent_name, (now_is).teams, (now_is).rating, 1 WHERE (now_is).id IS NOT NULL
$$;

-- Applies a chat's change to the sums. Each table gets the net change per row, rows
-- whose net change is nothing are left alone, and rows are changed in key order, so
-- two nodes changing chats at once never lock the same two rows in opposite orders.
CREATE FUNCTION report_apply(was conversations, now_is conversations) RETURNS VOID
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_days AS r (day, chats, queued, abandoned, rated, score_sum)
    SELECT p.created_at / 86400000, SUM(p.sign),
        SUM(p.sign * (p.queued_at IS NOT NULL)::INT),
        SUM(p.sign * (p.queued_at IS NOT NULL AND p.agent_joined_at IS NULL
            AND p.status = 'ended')::INT),
        SUM(p.sign * (p.rating IS NOT NULL)::INT), SUM(p.sign * COALESCE(p.rating, 0))
    FROM report_parts(was, now_is) p GROUP BY 1
    HAVING SUM(p.sign) <> 0 OR SUM(p.sign * (p.queued_at IS NOT NULL)::INT) <> 0
        OR SUM(p.sign * (p.queued_at IS NOT NULL AND p.agent_joined_at IS NULL
            AND p.status = 'ended')::INT) <> 0
        OR SUM(p.sign * (p.rating IS NOT NULL)::INT) <> 0
        OR SUM(p.sign * COALESCE(p.rating, 0)) <> 0
    ORDER BY 1
    ON CONFLICT (day) DO UPDATE SET
        chats = r.chats + excluded.chats, queued = r.queued + excluded.queued,
        abandoned = r.abandoned + excluded.abandoned, rated = r.rated + excluded.rated,
        score_sum = r.score_sum + excluded.score_sum;

    INSERT INTO report_hours AS r (level, block, hour, chats)
    SELECT level, (p.created_at / 86400000) >> (2 * level)::INT,
        p.created_at % 86400000 / 3600000, SUM(p.sign)
    FROM report_parts(was, now_is) p, generate_series(0, 3) level
    GROUP BY 1, 2, 3 HAVING SUM(p.sign) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (level, block, hour) DO UPDATE SET chats = r.chats + excluded.chats;

    INSERT INTO report_agents AS r (level, block, agent, chats, rated, score_sum)
    SELECT level, (p.created_at / 86400000) >> (2 * level)::INT, p.agent_name, SUM(p.sign),
        SUM(p.sign * (p.rating IS NOT NULL)::INT), SUM(p.sign * COALESCE(p.rating, 0))
    FROM report_parts(was, now_is) p, generate_series(0, 3) level
    WHERE p.agent_name IS NOT NULL
    GROUP BY 1, 2, 3
    HAVING SUM(p.sign) <> 0 OR SUM(p.sign * (p.rating IS NOT NULL)::INT) <> 0
        OR SUM(p.sign * COALESCE(p.rating, 0)) <> 0
    ORDER BY 1, 2, 3
    ON CONFLICT (level, block, agent) DO UPDATE SET
        chats = r.chats + excluded.chats, rated = r.rated + excluded.rated,
        score_sum = r.score_sum + excluded.score_sum;

    INSERT INTO report_teams AS r (level, block, team, chats, rated, score_sum)
    SELECT level, (p.created_at / 86400000) >> (2 * level)::INT, team #>> '{}', SUM(p.sign),
        SUM(p.sign * (p.rating IS NOT NULL)::INT), SUM(p.sign * COALESCE(p.rating, 0))
    FROM report_parts(was, now_is) p, generate_series(0, 3) level,
        jsonb_array_elements(COALESCE(p.teams, '[]')::JSONB) team
    WHERE jsonb_typeof(team) = 'string'
    GROUP BY 1, 2, 3
    HAVING SUM(p.sign) <> 0 OR SUM(p.sign * (p.rating IS NOT NULL)::INT) <> 0
        OR SUM(p.sign * COALESCE(p.rating, 0)) <> 0
    ORDER BY 1, 2, 3
    ON CONFLICT (level, block, team) DO UPDATE SET
        chats = r.chats + excluded.chats, rated = r.rated + excluded.rated,
        score_sum = r.score_sum + excluded.score_sum;

    INSERT INTO report_waits AS r (level, block, measure, bucket_ms, chats)
    SELECT level, (p.created_at / 86400000) >> (2 * level)::INT, wait.measure,
        CASE WHEN wait.ms < 3600000 THEN wait.ms / 1000 * 1000
            ELSE wait.ms / 60000 * 60000 END,
        SUM(p.sign)
    FROM report_parts(was, now_is) p, generate_series(0, 3) level,
        LATERAL (VALUES (0, p.queue_ms), (1, p.first_response_at - p.queued_at))
            AS wait (measure, ms)
    WHERE wait.ms IS NOT NULL
    GROUP BY 1, 2, 3, 4 HAVING SUM(p.sign) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (level, block, measure, bucket_ms) DO UPDATE SET
        chats = r.chats + excluded.chats;
END $$;

CREATE FUNCTION report_sums_follow_chats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM report_apply(NULL, NEW);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM report_apply(OLD, NULL);
    ELSE
        PERFORM report_apply(OLD, NEW);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER report_chat_added AFTER INSERT ON conversations
    FOR EACH ROW EXECUTE FUNCTION report_sums_follow_chats();
CREATE TRIGGER report_chat_changed AFTER UPDATE OF
    created_at, status, queued_at, agent_joined_at, queue_ms, first_response_at,
    agent_name, teams, rating ON conversations
    FOR EACH ROW WHEN (
        OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.queued_at IS DISTINCT FROM NEW.queued_at
        OR OLD.agent_joined_at IS DISTINCT FROM NEW.agent_joined_at
        OR OLD.queue_ms IS DISTINCT FROM NEW.queue_ms
        OR OLD.first_response_at IS DISTINCT FROM NEW.first_response_at
        OR OLD.agent_name IS DISTINCT FROM NEW.agent_name
        OR OLD.teams IS DISTINCT FROM NEW.teams OR OLD.rating IS DISTINCT FROM NEW.rating)
    EXECUTE FUNCTION report_sums_follow_chats();
CREATE TRIGGER report_chat_removed AFTER DELETE ON conversations
    FOR EACH ROW EXECUTE FUNCTION report_sums_follow_chats();

-- The chats already stored, once.
SELECT report_apply(NULL, c) FROM conversations c;
