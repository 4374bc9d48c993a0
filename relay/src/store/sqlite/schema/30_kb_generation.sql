CREATE TABLE kb_generation (generation INTEGER NOT NULL);
INSERT INTO kb_generation (generation) VALUES (0);
CREATE TRIGGER kb_chunks_added AFTER INSERT ON kb_chunks BEGIN
    UPDATE kb_generation SET generation = generation + 1;
END;
CREATE TRIGGER kb_chunks_removed AFTER DELETE ON kb_chunks BEGIN
    UPDATE kb_generation SET generation = generation + 1;
END;
CREATE TRIGGER kb_chunks_embedded AFTER UPDATE OF embedding, embedding_model ON kb_chunks BEGIN
    UPDATE kb_generation SET generation = generation + 1;
END;
