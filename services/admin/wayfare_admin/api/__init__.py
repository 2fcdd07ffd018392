"""The admin API, under /api/v1/admin; every route needs the admin role."""
