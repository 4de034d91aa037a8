-- The exact bytes a policy revision names: sha256(content) = revision. The JSONB files and
-- data stay as a readable copy, but JSONB normalises numbers (-0.0 becomes 0.0, 1e300 a
-- 301-digit integer), so a revision cannot be recomputed from them. Rows stored before
-- this migration get their bytes from gateway.store.policies.backfill_content, which
-- `migrate` runs right after the SQL migrations.

ALTER TABLE policy_versions ADD COLUMN content bytea;

CREATE OR REPLACE FUNCTION policy_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.revision <> OLD.revision OR NEW.files <> OLD.files OR NEW.data <> OLD.data
       OR NEW.author <> OLD.author
       OR (OLD.content IS NOT NULL AND NEW.content IS DISTINCT FROM OLD.content) THEN
        RAISE EXCEPTION 'policy versions are immutable: create a new draft instead'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
