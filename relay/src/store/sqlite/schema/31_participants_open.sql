ALTER TABLE participants ADD COLUMN open INTEGER NOT NULL DEFAULT 1;
UPDATE participants SET open = 0
    WHERE conversation_id IN (SELECT id FROM conversations WHERE status = 'ended');
CREATE INDEX participants_open ON participants(agent_id) WHERE open = 1;
CREATE TRIGGER participants_added AFTER INSERT ON participants BEGIN
    UPDATE participants SET open = 0 WHERE rowid = NEW.rowid
        AND (SELECT status FROM conversations WHERE id = NEW.conversation_id) = 'ended';
END;
CREATE TRIGGER conversations_opened_or_ended AFTER UPDATE OF status ON conversations
    WHEN (OLD.status = 'ended') <> (NEW.status = 'ended') BEGIN
    UPDATE participants SET open = (NEW.status <> 'ended') WHERE conversation_id = NEW.id;
END;
