//! Hostile search queries.
