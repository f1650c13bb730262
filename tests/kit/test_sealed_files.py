from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.kit import sealed_files
from crm.kit.crypto import Keyring, keyring, use_keyring
from crm.kit.sealed_files import CHUNK, MAGIC, SealedFileError

CONTEXT = "attachment:1/0123456789abcdef0123456789abcdef"


def _seal(path: Path, content: bytes, context: str = CONTEXT, *, pieces: int = 7_000) -> Path:
    with sealed_files.create(path, context) as out:
        for start in range(0, len(content), pieces):
            out.write(content[start : start + pieces])
    return path


def _read(path: Path, context: str = CONTEXT) -> bytes:
    return b"".join(sealed_files.read(path, context))


@pytest.fixture
def rotated(test_keys: Keyring) -> Iterator[Keyring]:
    """A second key made active beside the first, as `crm keys rotate` does."""
    ring = Keyring({**test_keys.keys, "t2": secrets.token_bytes(32)}, "t2", test_keys.blind_key)
    use_keyring(ring)
    yield ring
    use_keyring(test_keys)


class TestSealing:
    @pytest.mark.parametrize("length", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 5])
    def test_content_of_any_length_reads_back_whole(self, tmp_path: Path, length: int) -> None:
        content = secrets.token_bytes(length)
        path = _seal(tmp_path / "f", content)
        assert _read(path) == content
        assert sealed_files.size(path, CONTEXT) == length

    @settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.binary(max_size=3000), st.integers(1, 5000))
    def test_however_it_is_written_in_pieces_it_reads_back(self, tmp_path: Path, content: bytes, pieces: int) -> None:
        path = tmp_path / secrets.token_hex(8)
        assert _read(_seal(path, content, pieces=pieces)) == content

    def test_the_bytes_on_disk_hold_no_plaintext_and_name_the_key(self, tmp_path: Path) -> None:
        content = "客户名片：张伟 13812345678".encode() * 100
        path = _seal(tmp_path / "f", content)
        stored = path.read_bytes()
        assert stored.startswith(MAGIC)
        assert "张伟".encode() not in stored
        assert b"13812345678" not in stored
        assert sealed_files.key_id(path) == keyring().active

    def test_a_new_file_is_readable_by_its_owner_only(self, tmp_path: Path) -> None:
        assert _seal(tmp_path / "f", b"x").stat().st_mode & 0o777 == 0o600

    def test_a_failed_write_leaves_no_file(self, tmp_path: Path) -> None:
        def fail_halfway() -> None:
            with sealed_files.create(tmp_path / "f", CONTEXT) as out:
                out.write(b"half")
                raise RuntimeError

        with pytest.raises(RuntimeError):
            fail_halfway()
        assert not (tmp_path / "f").exists()


class TestTampering:
    """Any change to a sealed file is refused, never returned as content."""

    @pytest.fixture
    def sealed(self, tmp_path: Path) -> Path:
        return _seal(tmp_path / "f", secrets.token_bytes(2 * CHUNK + 100))

    @pytest.mark.parametrize("offset", [len(MAGIC) + 1, len(MAGIC) + 5, 60, CHUNK + 100, -1])
    def test_a_changed_byte_anywhere_is_refused(self, sealed: Path, offset: int) -> None:
        data = bytearray(sealed.read_bytes())
        data[offset] ^= 0x01
        sealed.write_bytes(bytes(data))
        with pytest.raises(SealedFileError):
            _read(sealed)

    def test_a_file_cut_after_a_whole_chunk_is_refused(self, sealed: Path) -> None:
        data = sealed.read_bytes()
        header = len(data) - (2 * (CHUNK + 16) + 100 + 16)
        sealed.write_bytes(data[: header + CHUNK + 16])
        with pytest.raises(SealedFileError):
            _read(sealed)

    def test_a_file_cut_inside_the_header_is_refused(self, sealed: Path) -> None:
        sealed.write_bytes(sealed.read_bytes()[: len(MAGIC) + 3])
        with pytest.raises(SealedFileError):
            _read(sealed)

    def test_a_file_copied_over_another_does_not_open_there(self, sealed: Path) -> None:
        with pytest.raises(SealedFileError):
            _read(sealed, "attachment:2/0123456789abcdef0123456789abcdef")


class TestKeys:
    def test_a_file_written_under_an_old_key_still_reads_after_rotation(self, tmp_path: Path, rotated: Keyring) -> None:
        use_keyring(Keyring({"t1": rotated.keys["t1"]}, "t1", rotated.blind_key))
        old = _seal(tmp_path / "old", b"old content")
        use_keyring(rotated)
        new = _seal(tmp_path / "new", b"new content")
        assert (sealed_files.key_id(old), sealed_files.key_id(new)) == ("t1", "t2")
        assert (_read(old), _read(new)) == (b"old content", b"new content")

    def test_reseal_moves_a_file_onto_the_active_key(
        self, tmp_path: Path, test_keys: Keyring, rotated: Keyring
    ) -> None:
        use_keyring(test_keys)
        path = _seal(tmp_path / "f", b"content")
        use_keyring(rotated)
        sealed_files.reseal(path, CONTEXT)
        assert (sealed_files.key_id(path), _read(path)) == ("t2", b"content")
        assert path.stat().st_mode & 0o777 == 0o600

    def test_a_file_under_a_key_no_longer_configured_is_refused(self, tmp_path: Path, rotated: Keyring) -> None:
        path = _seal(tmp_path / "f", b"content")
        use_keyring(Keyring({"t9": secrets.token_bytes(32)}, "t9", rotated.blind_key))
        with pytest.raises(SealedFileError, match="t2"):
            _read(path)


class TestFilesStoredInClear:
    def test_a_clear_file_reads_as_it_is_and_reseal_encrypts_it(self, tmp_path: Path) -> None:
        path = tmp_path / "f"
        path.write_bytes(b"%PDF-1.7 stored before encryption")
        assert sealed_files.key_id(path) is None
        assert _read(path) == b"%PDF-1.7 stored before encryption"
        sealed_files.reseal(path, CONTEXT)
        assert b"stored before" not in path.read_bytes()
        assert _read(path) == b"%PDF-1.7 stored before encryption"
