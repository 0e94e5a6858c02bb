-- PRE had neither the constraint nor the column.
ALTER TABLE public.parcels DROP CONSTRAINT IF EXISTS parcels_perimeter_m_nonnegative;
ALTER TABLE public.parcels DROP COLUMN IF EXISTS perimeter_m;
