"""Silver: canonical entities from bronze payloads, FX, master data and cross-system reconciliation."""
