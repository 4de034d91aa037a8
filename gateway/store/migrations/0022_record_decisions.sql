-- A batch of decisions written in one round trip: the audit events (already hashed and
-- linked by the writer onto the chain head it read, expected_seq/expected_hash), the chain
-- head moved over them, the proposals, the outbox rows of the allowed ones with one
-- NOTIFY, and the mentions marked proposed.
--
-- The head is locked here (FOR UPDATE, held until the transaction ends). If it moved since
-- the writer read it (another writer appended meanwhile), nothing is written and the head
-- as it now is comes back as the one row of the result: the writer links its events onto
-- it and calls again, and this time the head cannot move (its lock is held).
--
-- One function rather than one statement with data-modifying CTEs: the statements must
-- see each other's rows (the chain head's trigger checks the new events exist and link;
-- the proposals reference their events), which sibling CTEs cannot. It runs with the
-- caller's privileges (gateway_app: INSERT and SELECT on audit_events), so it can do
-- nothing the role could not do statement by statement; the append-only triggers apply.
CREATE FUNCTION record_decisions(
    expected_seq bigint, expected_hash text,
    ev_seq bigint[], ev_at timestamptz, ev_kind text[], ev_actor text[], ev_subject text[],
    ev_payload text[], ev_revision text[], ev_prev text[], ev_hash text[],
    p_id bigint[], p_audit_seq bigint[], p_mention bigint[], p_channel text[],
    p_customer text[], p_thread text[], p_agent text[], p_text text[], p_ai boolean[],
    p_status text[], p_outcome text[], p_reasons text[], p_revision text[], p_key text[],
    p_at timestamptz[], p_input text[], p_shadow text[],
    queue bigint[], queued_at timestamptz, proposed bigint[]
) RETURNS TABLE (head_seq bigint, head_hash text) LANGUAGE plpgsql AS $$
DECLARE
    current_seq bigint;
    current_hash text;
BEGIN
    SELECT h.seq, h.hash INTO current_seq, current_hash
    FROM audit_chain_head h WHERE h.id = 1 FOR UPDATE;
    IF current_seq <> expected_seq OR current_hash <> expected_hash THEN
        head_seq := current_seq;
        head_hash := current_hash;
        RETURN NEXT;
        RETURN;
    END IF;
    INSERT INTO audit_events (seq, occurred_at, kind, actor, subject, payload,
                              policy_revision, prev_hash, hash)
    SELECT e.seq, ev_at, e.kind, e.actor, e.subject, e.payload::jsonb, e.revision,
           e.prev, e.hash
    FROM unnest(ev_seq, ev_kind, ev_actor, ev_subject, ev_payload, ev_revision, ev_prev,
                ev_hash) AS e(seq, kind, actor, subject, payload, revision, prev, hash);
    UPDATE audit_chain_head SET seq = ev_seq[cardinality(ev_seq)],
                                hash = ev_hash[cardinality(ev_hash)] WHERE id = 1;
    INSERT INTO proposals (id, audit_seq, mention_id, channel, customer_handle, thread_id,
                           agent, text, ai_generated, status, outcome, reasons,
                           policy_revision, idempotency_key, approved_at, created_at,
                           updated_at, policy_input, shadow)
    OVERRIDING SYSTEM VALUE
    SELECT n.id, n.audit_seq, n.mention_id, n.channel, n.customer, n.thread, n.agent, n.text,
           n.ai, n.status, n.outcome, n.reasons::jsonb, n.revision, n.key,
           CASE WHEN n.status = 'approved' THEN n.at END, n.at, n.at,
           n.input::jsonb, n.shadow::jsonb
    FROM unnest(p_id, p_audit_seq, p_mention, p_channel, p_customer, p_thread, p_agent,
                p_text, p_ai, p_status, p_outcome, p_reasons, p_revision, p_key, p_at,
                p_input, p_shadow)
         AS n(id, audit_seq, mention_id, channel, customer, thread, agent, text, ai, status,
              outcome, reasons, revision, key, at, input, shadow);
    IF cardinality(queue) > 0 THEN
        INSERT INTO outbox (proposal_id, next_attempt_at, created_at, updated_at)
        SELECT id, queued_at, queued_at, queued_at FROM unnest(queue) AS id;
        PERFORM pg_notify('outbox_queued', cardinality(queue)::text);
    END IF;
    UPDATE mentions SET status = 'proposed' WHERE id = ANY(proposed) AND status = 'new';
END
$$;
