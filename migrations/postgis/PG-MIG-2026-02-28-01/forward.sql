-- PG-MIG-2026-02-28-01: spatial index for map queries on parcels.
-- Runs inside the governed transaction; scope is checked before COMMIT.
CREATE INDEX parcels_geom_gist ON public.parcels USING gist (geom);
