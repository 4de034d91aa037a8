-- What a batch of decisions reads under its locks, in one round trip: the group-commit
-- writer (gateway/store/decision_batch.py) calls it first in the batch's transaction, then
-- record_decisions (0022) to write. It does, statement after statement:
--
-- 1. lock the batch's mentions (FOR UPDATE, in id order: two batches never deadlock);
-- 2. take the contact locks of their customers and threads (transaction-scoped advisory
--    locks on the same keys as gateway/store/proposals.py's contact_lock_keys, in the same
--    order: sorted by their bytes, COLLATE "C", as Python sorts them);
-- 3. read each job's contact facts. PL/pgSQL takes a new snapshot for every statement, so
--    this read sees every contact committed by whoever held those locks before: the caps
--    hold. The customer's contacts are read in approved_at order, which only
--    proposals_customer_idx gives, and the subject by a lookup of its own: on statistics
--    taken while the tables were nearly empty the planner otherwise filtered every
--    proposal of the channel, and every subject, for each job. A contact counts when
--    approved after `as_of` minus its window (`as_of` is the writer's clock just before
--    the call; no upper bound: a contact approved since, by whoever held the locks,
--    counts);
-- 4. reserve one proposal id per job and read the audit chain head (not locked: 0022
--    locks it and checks it did not move);
-- 5. create or read each customer's audit subject and key (`new_subject`/`new_key`: a
--    fresh id and key per job, at least as many as the customers; used when the
--    customer has none yet).
--
-- Its statements run on generic plans (planned once per connection, not for every batch:
-- a custom plan of the facts read cost about 0.5 ms per call, more than running it).
--
-- One row per job, in job order (`ord` from 1); `m` is NULL for a mention that does not
-- exist. It runs with the caller's privileges, like record_decisions.
CREATE FUNCTION prepare_decisions(
    job_mention bigint[], job_skey text[], as_of timestamptz, new_subject uuid[], new_key bytea[]
) RETURNS TABLE (
    ord bigint, m mentions, c24 bigint, c7 bigint, c30 bigint, last_contact timestamptz,
    replies bigint, last_reply timestamptz, last_mention timestamptz, opted_out boolean,
    channel_suppressions boolean, subject_id uuid, subject_key bytea, proposal_id bigint,
    head_seq bigint, head_hash text
) LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
    l_channel text[];
    l_handle text[];
    l_thread text[];
    cur_seq bigint;
    cur_hash text;
BEGIN
    -- Scalars only: an array of whole rows would be expanded again for every job it is
    -- joined with (quadratic in the batch's size). The rows themselves are read again
    -- by the last statement: locked by this transaction, they cannot have changed.
    SELECT array_agg(x.channel ORDER BY x.id), array_agg(x.handle ORDER BY x.id),
           array_agg(x.thread_id ORDER BY x.id)
    INTO l_channel, l_handle, l_thread
    FROM (
        SELECT id, channel, coalesce(nullif(customer_id, ''), author_handle) AS handle,
               thread_id
        FROM mentions WHERE id = ANY(job_mention) ORDER BY id FOR UPDATE
    ) AS x;

    PERFORM pg_advisory_xact_lock(hashtextextended(k.key, 0)) FROM (
        SELECT DISTINCT key COLLATE "C" AS key
        FROM unnest(l_channel, l_handle, l_thread) AS l(channel, handle, thread_id),
        LATERAL (VALUES ('contacts:customer:' || l.channel || ':' || l.handle),
                        ('contacts:thread:' || l.channel || ':' || l.thread_id)) AS v(key)
        ORDER BY 1
    ) AS k;

    INSERT INTO subjects (id, channel, handle, key)
    SELECT DISTINCT ON (l.channel, l.handle) new_subject[l.n], l.channel, l.handle, new_key[l.n]
    FROM unnest(l_channel, l_handle) WITH ORDINALITY AS l(channel, handle, n)
    ORDER BY l.channel, l.handle
    ON CONFLICT (channel, handle) WHERE erased_at IS NULL AND alias_of IS NULL DO NOTHING;

    SELECT h.seq, h.hash INTO cur_seq, cur_hash FROM audit_chain_head h WHERE h.id = 1;

    RETURN QUERY
    WITH j AS (
        SELECT u.ord, r.id AS mid, r AS mrow, r.channel,
               coalesce(nullif(r.customer_id, ''), r.author_handle) AS handle, r.thread_id,
               u.skey, r.customer_key
        FROM unnest(job_mention, job_skey) WITH ORDINALITY AS u(mention, skey, ord)
        LEFT JOIN mentions r ON r.id = u.mention
    )
    SELECT j.ord, j.mrow, c.c24, c.c7, c.c30, c.last_contact, t.replies, t.last_reply,
        (SELECT max(x.created_at) FROM mentions x WHERE x.channel = j.channel
         AND x.thread_id = j.thread_id AND x.customer_id = j.handle),
        EXISTS (SELECT 1 FROM opt_outs o WHERE o.channel = j.channel AND o.handle = j.handle
                AND o.removed_at IS NULL)
        OR EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = j.channel
                   AND s.customer_key IN (j.skey, j.customer_key)),
        EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = j.channel),
        s.id, s.key, nextval(pg_get_serial_sequence('proposals', 'id')), cur_seq, cur_hash
    FROM j
    LEFT JOIN LATERAL (SELECT
            count(*) FILTER (WHERE p.approved_at > as_of - interval '24 hours') AS c24,
            count(*) FILTER (WHERE p.approved_at > as_of - interval '7 days') AS c7,
            count(*) AS c30, max(p.approved_at) AS last_contact
        FROM (SELECT p.approved_at FROM proposals p
              WHERE p.channel = j.channel AND p.customer_handle = j.handle
              AND p.status IN ('approved', 'released')
              AND p.approved_at > as_of - interval '30 days'
              ORDER BY p.approved_at) AS p) AS c ON j.mid IS NOT NULL
    LEFT JOIN LATERAL (SELECT count(*) AS replies, max(p.approved_at) AS last_reply
        FROM proposals p WHERE p.channel = j.channel AND p.thread_id = j.thread_id
        AND p.status IN ('approved', 'released')) AS t ON j.mid IS NOT NULL
    LEFT JOIN LATERAL (SELECT s.id, s.key FROM subjects s
        WHERE s.channel = j.channel AND s.handle = j.handle
        AND s.erased_at IS NULL AND s.alias_of IS NULL LIMIT 1) AS s ON true
    ORDER BY j.ord;
END
$$;
