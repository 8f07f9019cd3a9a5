"""Operational tables every layer shares: the quarantine, review items and their audit, the ingest ledger."""
