-- PG-MIG-2026-03-02-01: additive column, batched backfill, then the constraint — each step safe on a busy table.
-- 1. A nullable column without a default: a catalog change, no rewrite.
ALTER TABLE public.parcels ADD COLUMN perimeter_m double precision;

-- 2. The backfill in key-ordered batches, each its own transaction; max_row_backfill is checked before
--    every batch, and `kfm-migrate apply --resume` continues from the last one after a crash.
-- kfm-batch: key=id size=500
UPDATE public.parcels SET perimeter_m = ST_Perimeter(geom::geography) WHERE perimeter_m IS NULL;

-- 3. The constraint without a full scan under an exclusive lock, then validated under a weaker one.
ALTER TABLE public.parcels ADD CONSTRAINT parcels_perimeter_m_nonnegative CHECK (perimeter_m >= 0) NOT VALID;
ALTER TABLE public.parcels VALIDATE CONSTRAINT parcels_perimeter_m_nonnegative;
