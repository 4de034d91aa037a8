-- The group-commit writer appends a whole batch of audit events and moves the chain head
-- once per batch. The head may now advance by any number of events, provided each of them
-- exists (no gap), each links to the one before (prev_hash), the first links to the old
-- head, and the new head names the last of them. It still never moves back.
CREATE OR REPLACE FUNCTION audit_chain_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq < OLD.seq THEN
        RAISE EXCEPTION 'audit chain head must not move back (% -> %)', OLD.seq, NEW.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.seq > OLD.seq THEN
        IF (SELECT count(*) FROM audit_events WHERE seq > OLD.seq AND seq <= NEW.seq)
           <> NEW.seq - OLD.seq THEN
            RAISE EXCEPTION 'audit chain head must advance over existing events only (% -> %)',
                OLD.seq, NEW.seq
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF EXISTS (
            SELECT 1 FROM audit_events e
            WHERE e.seq > OLD.seq AND e.seq <= NEW.seq
              AND e.prev_hash <> CASE WHEN e.seq = OLD.seq + 1 THEN OLD.hash ELSE
                  (SELECT p.hash FROM audit_events p WHERE p.seq = e.seq - 1) END
        ) THEN
            RAISE EXCEPTION 'audit chain head must advance over linked events only (% -> %)',
                OLD.seq, NEW.seq
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM audit_events WHERE seq = NEW.seq AND hash = NEW.hash)
       AND NEW.seq <> 0 THEN
        RAISE EXCEPTION 'audit chain head must point at an existing event'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
