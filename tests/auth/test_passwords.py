"""Passwords are kept as argon2id hashes at the production cost (the suite itself hashes cheaper)."""

from __future__ import annotations

from argon2 import PasswordHasher, extract_parameters
from argon2.profiles import RFC_9106_LOW_MEMORY

from crm.auth import passwords


def test_the_application_hashes_with_argon2id_at_the_rfc_9106_cost(quick_password_hashing: PasswordHasher) -> None:
    production = quick_password_hashing
    stored = production.hash("correct-horse-battery")
    assert stored.startswith("$argon2id$")
    used = extract_parameters(stored)
    assert (used.time_cost, used.memory_cost, used.parallelism) == (
        RFC_9106_LOW_MEMORY.time_cost,
        RFC_9106_LOW_MEMORY.memory_cost,
        RFC_9106_LOW_MEMORY.parallelism,
    )
    assert used.memory_cost >= 64 * 1024  # KiB: 64 MiB a hash


def test_a_password_verifies_and_a_wrong_or_missing_one_does_not() -> None:
    stored = passwords.hash_password("correct-horse-battery")
    assert passwords.verify_password(stored, "correct-horse-battery")
    assert not passwords.verify_password(stored, "wrong-horse-battery")
    assert not passwords.verify_password(None, "correct-horse-battery")
