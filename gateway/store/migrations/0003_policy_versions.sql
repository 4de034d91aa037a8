-- Policy versions: immutable content (Rego files + data) identified by its content hash.
-- Which version is enforced, and which runs in shadow, is one row: policy_state.

CREATE TABLE policy_versions (
    revision     text PRIMARY KEY,            -- sha256 of the canonical {files, data}
    files        jsonb NOT NULL,
    data         jsonb NOT NULL,
    author       text NOT NULL,
    description  text NOT NULL DEFAULT '',
    parent       text REFERENCES policy_versions (revision),
    created_at   timestamptz NOT NULL DEFAULT now(),
    tests        jsonb,                       -- the last test report
    tests_passed boolean,
    tested_at    timestamptz,
    activated_at timestamptz                  -- first activation (null: never enforced)
);

CREATE FUNCTION policy_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.revision <> OLD.revision OR NEW.files <> OLD.files OR NEW.data <> OLD.data
       OR NEW.author <> OLD.author THEN
        RAISE EXCEPTION 'policy versions are immutable: create a new draft instead'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER policy_versions_immutable BEFORE UPDATE ON policy_versions
    FOR EACH ROW EXECUTE FUNCTION policy_versions_immutable();
CREATE TRIGGER policy_versions_no_delete BEFORE DELETE OR TRUNCATE ON policy_versions
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

CREATE TABLE policy_state (
    id               integer PRIMARY KEY CHECK (id = 1),
    active_revision  text REFERENCES policy_versions (revision),
    previous_revision text REFERENCES policy_versions (revision),
    shadow_revision  text REFERENCES policy_versions (revision),
    activated_by     text,
    activated_at     timestamptz,
    shadow_since     timestamptz
);
INSERT INTO policy_state (id) VALUES (1);

-- The policy input of each decision, kept with the proposal for impact analysis, and
-- the shadow policy's result beside the enforced one.
ALTER TABLE proposals
    ADD COLUMN policy_input jsonb,
    ADD COLUMN shadow jsonb;

GRANT SELECT, INSERT, UPDATE ON policy_versions, policy_state TO gateway_app;
