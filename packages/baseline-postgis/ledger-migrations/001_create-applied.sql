-- The runner's ledger: one append-only row per recorded outcome of a governed migration.
-- Managed by postgres-migrations inside the kfm_ledger schema; never edit an applied file, add a new one.
CREATE TABLE kfm_ledger.applied (
  seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  migration_id   text        NOT NULL,
  forward_digest text        NOT NULL,
  run_id         text        NOT NULL,
  status         text        NOT NULL CHECK (status IN ('applied', 'rolled_back')),
  receipt_digest text,
  recorded_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX applied_migration_idx ON kfm_ledger.applied (migration_id, seq DESC);

-- History is evidence: refuse to rewrite or erase it.
CREATE FUNCTION kfm_ledger.refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'kfm_ledger.applied is append-only';
END;
$$;

CREATE TRIGGER applied_append_only BEFORE UPDATE OR DELETE ON kfm_ledger.applied
  FOR EACH ROW EXECUTE FUNCTION kfm_ledger.refuse_rewrite();
CREATE TRIGGER applied_no_truncate BEFORE TRUNCATE ON kfm_ledger.applied
  FOR EACH STATEMENT EXECUTE FUNCTION kfm_ledger.refuse_rewrite();
