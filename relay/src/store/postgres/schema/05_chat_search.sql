-- Finding chats by the visitor's answers to the flow: the values of the flow state's
-- variables. A state that is not JSON, or holds no object of variables, has none
-- (SQLite's search checks json_valid first; PostgreSQL 15 has no IS JSON).
CREATE FUNCTION flow_values(flow_state TEXT) RETURNS TEXT[]
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    variables JSONB;
BEGIN
    variables := flow_state::JSONB -> 'variables';
    IF jsonb_typeof(variables) <> 'object' THEN
        RETURN '{}';
    END IF;
    RETURN ARRAY(SELECT value FROM jsonb_each_text(variables));
EXCEPTION WHEN invalid_text_representation THEN
    RETURN '{}';
END $$;
