"""Phase 4 tables: declarations, the asset factory, the asset checks."""
