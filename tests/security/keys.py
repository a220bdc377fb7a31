"""Fresh AES-256 keys in the `UPGRADE_ENCRYPTION_KEYS` form, for tests."""

import base64
import os


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def key_ring(*ids: str) -> str:
    """`id:key,...` with a fresh key per id; the first id is the current key."""
    return ",".join(f"{key_id}:{new_key()}" for key_id in ids)
