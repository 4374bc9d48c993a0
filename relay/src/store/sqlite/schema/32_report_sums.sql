-- A report's sums, kept by triggers in the transaction that changes a chat, so a
-- report over any range reads a few rows per day and per block of days, never the
-- chats themselves. Days are whole days since the Unix epoch (created_at / 86400000).
CREATE TABLE report_days (
    day INTEGER PRIMARY KEY,
    chats INTEGER NOT NULL,
    queued INTEGER NOT NULL,
    abandoned INTEGER NOT NULL,
    rated INTEGER NOT NULL,
    score_sum INTEGER NOT NULL
) WITHOUT ROWID;
-- The sums per hour of the day, per agent, per team and per wait are kept per block of
-- 1, 4, 16 and 64 days (level 0 to 3; block = day / 4^level), each chat counted at
-- every level, so a range reads the few blocks that tile it (about 15 for 90 days),
-- not its every day.
CREATE TABLE report_hours (
    level INTEGER NOT NULL,
    block INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    chats INTEGER NOT NULL,
    PRIMARY KEY (level, block, hour)
) WITHOUT ROWID;
CREATE TABLE report_agents (
    level INTEGER NOT NULL,
    block INTEGER NOT NULL,
    agent TEXT NOT NULL,
    chats INTEGER NOT NULL,
    rated INTEGER NOT NULL,
    score_sum INTEGER NOT NULL,
    PRIMARY KEY (level, block, agent)
) WITHOUT ROWID;
CREATE TABLE report_teams (
    level INTEGER NOT NULL,
    block INTEGER NOT NULL,
    team TEXT NOT NULL,
    chats INTEGER NOT NULL,
    rated INTEGER NOT NULL,
    score_sum INTEGER NOT NULL,
    PRIMARY KEY (level, block, team)
) WITHOUT ROWID;
-- How many chats waited (measure 0: in the queue; 1: for the first agent message)
-- how long, to the second below an hour and to the minute above: what the Reports
-- page shows, so its median and 90th percentile read as if counted exactly.
CREATE TABLE report_waits (
    level INTEGER NOT NULL,
    block INTEGER NOT NULL,
    measure INTEGER NOT NULL,
    bucket_ms INTEGER NOT NULL,
    chats INTEGER NOT NULL,
    PRIMARY KEY (level, block, measure, bucket_ms)
) WITHOUT ROWID;

-- A chat's part in the sums, added (sign 1) or taken away (sign -1). Inserting into
-- this view applies it; nothing is stored in it.
CREATE VIEW report_delta AS SELECT
    NULL AS created_at, NULL AS status, NULL AS queued_at, NULL AS agent_joined_at,
    NULL AS queue_ms, NULL AS first_response_at, NULL AS agent_name, NULL AS teams,
    NULL AS rating, NULL AS sign;
CREATE TRIGGER report_delta_apply INSTEAD OF INSERT ON report_delta BEGIN
    INSERT INTO report_days (day, chats, queued, abandoned, rated, score_sum)
    VALUES (
        NEW.created_at / 86400000, NEW.sign,
        NEW.sign * (NEW.queued_at IS NOT NULL),
        NEW.sign * (NEW.queued_at IS NOT NULL AND NEW.agent_joined_at IS NULL AND NEW.status = 'ended'),
        NEW.sign * (NEW.rating IS NOT NULL), NEW.sign * coalesce(NEW.rating, 0)
    ) ON CONFLICT (day) DO UPDATE SET
        chats = chats + excluded.chats, queued = queued + excluded.queued,
        abandoned = abandoned + excluded.abandoned, rated = rated + excluded.rated,
        score_sum = score_sum + excluded.score_sum;
    INSERT INTO report_hours (level, block, hour, chats)
    SELECT level.n, (NEW.created_at / 86400000) >> (2 * level.n),
        NEW.created_at % 86400000 / 3600000, NEW.sign
    FROM (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) AS level
    WHERE true
    ON CONFLICT (level, block, hour) DO UPDATE SET chats = chats + excluded.chats;
    INSERT INTO report_agents (level, block, agent, chats, rated, score_sum)
    SELECT level.n, (NEW.created_at / 86400000) >> (2 * level.n), NEW.agent_name, NEW.sign,
        NEW.sign * (NEW.rating IS NOT NULL), NEW.sign * coalesce(NEW.rating, 0)
    FROM (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) AS level
    WHERE NEW.agent_name IS NOT NULL
    ON CONFLICT (level, block, agent) DO UPDATE SET
        chats = chats + excluded.chats, rated = rated + excluded.rated,
        score_sum = score_sum + excluded.score_sum;
    INSERT INTO report_teams (level, block, team, chats, rated, score_sum)
    SELECT level.n, (NEW.created_at / 86400000) >> (2 * level.n), team.value, NEW.sign,
        NEW.sign * (NEW.rating IS NOT NULL), NEW.sign * coalesce(NEW.rating, 0)
    FROM (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) AS level,
        json_each(coalesce(NEW.teams, '[]')) AS team
    WHERE team.type = 'text'
    ON CONFLICT (level, block, team) DO UPDATE SET
        chats = chats + excluded.chats, rated = rated + excluded.rated,
        score_sum = score_sum + excluded.score_sum;
    INSERT INTO report_waits (level, block, measure, bucket_ms, chats)
    SELECT level.n, (NEW.created_at / 86400000) >> (2 * level.n), wait.measure,
        CASE WHEN wait.ms < 3600000 THEN wait.ms / 1000 * 1000 ELSE wait.ms / 60000 * 60000 END,
        NEW.sign
    FROM (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) AS level,
    (
        SELECT 0 AS measure, NEW.queue_ms AS ms
        UNION ALL SELECT 1, NEW.first_response_at - NEW.queued_at
    ) AS wait WHERE wait.ms IS NOT NULL
    ON CONFLICT (level, block, measure, bucket_ms) DO UPDATE SET chats = chats + excluded.chats;
END;

CREATE TRIGGER report_chat_added AFTER INSERT ON conversations BEGIN
    INSERT INTO report_delta VALUES (
        NEW.created_at, NEW.status, NEW.queued_at, NEW.agent_joined_at, NEW.queue_ms,
        NEW.first_response_at, NEW.agent_name, NEW.teams, NEW.rating, 1);
END;
CREATE TRIGGER report_chat_changed AFTER UPDATE OF
    created_at, status, queued_at, agent_joined_at, queue_ms, first_response_at,
    agent_name, teams, rating ON conversations
    WHEN OLD.created_at IS NOT NEW.created_at OR OLD.status IS NOT NEW.status
        OR OLD.queued_at IS NOT NEW.queued_at OR OLD.agent_joined_at IS NOT NEW.agent_joined_at
        OR OLD.queue_ms IS NOT NEW.queue_ms OR OLD.first_response_at IS NOT NEW.first_response_at
        OR OLD.agent_name IS NOT NEW.agent_name OR OLD.teams IS NOT NEW.teams
        OR OLD.rating IS NOT NEW.rating BEGIN
    INSERT INTO report_delta VALUES (
        OLD.created_at, OLD.status, OLD.queued_at, OLD.agent_joined_at, OLD.queue_ms,
        OLD.first_response_at, OLD.agent_name, OLD.teams, OLD.rating, -1);
    INSERT INTO report_delta VALUES (
        NEW.created_at, NEW.status, NEW.queued_at, NEW.agent_joined_at, NEW.queue_ms,
        NEW.first_response_at, NEW.agent_name, NEW.teams, NEW.rating, 1);
END;
CREATE TRIGGER report_chat_removed AFTER DELETE ON conversations BEGIN
    INSERT INTO report_delta VALUES (
        OLD.created_at, OLD.status, OLD.queued_at, OLD.agent_joined_at, OLD.queue_ms,
        OLD.first_response_at, OLD.agent_name, OLD.teams, OLD.rating, -1);
END;

-- The chats already stored, once.
INSERT INTO report_delta
SELECT created_at, status, queued_at, agent_joined_at, queue_ms, first_response_at,
    agent_name, teams, rating, 1
FROM conversations;
