-- The ledger records the bundle's one identity (declaration + scripts, `sha256:<hex>`), the states of a
-- non-transactional run (`started` before its first statement, `rollback_failed` when its rollback did not
-- restore PRE) with the PRE fingerprint a rollback must restore, and the store-held protected-domain
-- policy (`kfm-migrate policy push`). Everything stays append-only.
ALTER TABLE kfm_ledger.applied RENAME COLUMN forward_digest TO bundle_digest;
ALTER TABLE kfm_ledger.applied DROP CONSTRAINT applied_status_check;
ALTER TABLE kfm_ledger.applied ADD CONSTRAINT applied_status_check
  CHECK (status IN ('started', 'applied', 'rolled_back', 'rollback_failed', 'receipt'));
ALTER TABLE kfm_ledger.applied ADD COLUMN pre_fingerprint text;
ALTER TABLE kfm_ledger.applied ADD COLUMN resume jsonb;

CREATE TABLE kfm_ledger.policy (
  seq         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  policy      jsonb       NOT NULL,
  digest      text        NOT NULL,
  run_id      text        NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER policy_append_only BEFORE UPDATE OR DELETE ON kfm_ledger.policy
  FOR EACH ROW EXECUTE FUNCTION kfm_ledger.refuse_rewrite();
CREATE TRIGGER policy_no_truncate BEFORE TRUNCATE ON kfm_ledger.policy
  FOR EACH STATEMENT EXECUTE FUNCTION kfm_ledger.refuse_rewrite();
