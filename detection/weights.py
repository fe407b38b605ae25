"""SHA-256 manifest of the shipped weights: checked before any .pt is unpickled by ultralytics."""
from __future__ import annotations

from pathlib import Path

from common.digest import sha256
from common.errors import UserError
from common.paths import written_whole

def read_manifest(manifest: Path) -> dict[str, str]:
    """file name -> hex digest (`sha256sum` format)."""
    if not manifest.is_file():
        return {}
    out = {}
    for line in manifest.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            out[name.lstrip("*").strip()] = digest
    return out


def record(path: str | Path) -> None:
    """Add or update the digest of `path` in the MANIFEST.sha256 beside it."""
    p = Path(path)
    manifest = p.parent / "MANIFEST.sha256"
    entries = read_manifest(manifest)
    entries[p.name] = sha256(p)
    text = "".join(f"{d}  {n}\n" for n, d in sorted(entries.items()))
    written_whole(manifest, lambda part: part.write_text(text))  # never half a manifest: every .pt would be refused


def verify(path: str | Path, manifest: Path | None = None, required: bool = True) -> None:
    """Raise UserError unless `path` is listed with a matching digest in the manifest (default: the
    MANIFEST.sha256 beside it). With `required=False` an unlisted file passes (an ONNX graph cannot run code);
    a listed one must still match."""
    p = Path(path)
    manifest = manifest or p.parent / "MANIFEST.sha256"
    if not p.is_file():
        raise UserError(f"detector weights not found: {p}")
    expected = read_manifest(manifest).get(p.name)
    if expected is None and not required:
        return
    if expected is None:
        raise UserError(f"{p} is not in {manifest.name}: a .pt file is a pickle that can run code; export it to "
                        f"ONNX, or set verify_sha256=false if you trust it")
    if sha256(p) != expected:
        raise UserError(f"{p}: SHA-256 does not match {manifest.name} (file changed or corrupt)")
