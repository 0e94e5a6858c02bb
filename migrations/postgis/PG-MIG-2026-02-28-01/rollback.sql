-- Restores PRE exactly: the only object the forward script created is this index.
DROP INDEX CONCURRENTLY IF EXISTS public.parcels_geom_gist;
