-- PG-MIG-2026-03-02-01: additive column, bounded backfill, then the constraint.
ALTER TABLE public.parcels ADD COLUMN perimeter_m double precision;

-- Backfill: every row once (the seed holds a few thousand parcels; max_row_backfill caps it).
UPDATE public.parcels SET perimeter_m = ST_Perimeter(geom::geography) WHERE perimeter_m IS NULL;

ALTER TABLE public.parcels ADD CONSTRAINT parcels_perimeter_m_nonnegative CHECK (perimeter_m >= 0);
