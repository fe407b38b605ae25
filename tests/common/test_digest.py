"""common/digest.py: a file's SHA-256, read in blocks, is the digest of all its bytes."""
import hashlib

import numpy as np

from common.digest import sha256


def test_a_files_digest_is_the_sha256_of_all_its_bytes_across_blocks(tmp_path):
    data = np.random.default_rng(0).integers(0, 256, (3 << 20) + 5, dtype=np.uint8).tobytes()  # 3 blocks and a bit
    (tmp_path / "big").write_bytes(data)
    (tmp_path / "other").write_bytes(data[:-1] + b"x")
    (tmp_path / "empty").write_bytes(b"")
    assert sha256(tmp_path / "big") == hashlib.sha256(data).hexdigest()
    assert sha256(str(tmp_path / "other")) != sha256(tmp_path / "big")
    assert sha256(tmp_path / "empty") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
