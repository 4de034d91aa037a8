-- The decision writer reserves a proposal's id first, so the audit event can name it and
-- the proposal row can carry the event's seq in one INSERT.
GRANT USAGE ON SEQUENCE proposals_id_seq TO gateway_app;
