"""Data-subject rights (§9.3): access (a copy of everything held) and erasure, with legal hold."""
