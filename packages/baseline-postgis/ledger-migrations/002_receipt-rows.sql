-- Receipt rows: after a run has written its receipt, the runner appends a row of status 'receipt' that
-- holds the receipt's digest — the new head of this store's receipt chain — without changing the state
-- of any migration (the state is the newest 'applied' / 'rolled_back' row). Still append-only.
ALTER TABLE kfm_ledger.applied DROP CONSTRAINT applied_status_check;
ALTER TABLE kfm_ledger.applied ADD CONSTRAINT applied_status_check CHECK (status IN ('applied', 'rolled_back', 'receipt'));
