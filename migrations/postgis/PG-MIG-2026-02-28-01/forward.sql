-- PG-MIG-2026-02-28-01: spatial index for map queries on parcels.
-- CONCURRENTLY: writes to parcels go on while the index builds. It cannot run inside a transaction, so
-- the bundle declares transactional: false and the rollback script, verified against PRE, is the net.
CREATE INDEX CONCURRENTLY parcels_geom_gist ON public.parcels USING gist (geom);
