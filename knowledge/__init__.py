"""The knowledge base: SMO/SMM concepts, comparison aspects, glossary and platform benchmarks.

The YAML files beside this module are data, not code; `load()` validates them once per process.

Parsing the YAML is most of what loading costs (importing PyYAML and reading 64 KB with it), so
`load()` keeps the parsed data in a cache file: $XDG_CACHE_HOME/smx (else ~/.cache/smx), keyed by
the SHA-256 of the four files' bytes, smx's version and the Python version, and checked by the
SHA-256 of its own payload. The data read from it is validated by the models exactly as freshly
parsed data is, every time: the cache skips the parse, never the validation. Anything wrong with
it (missing, another key, corrupt, unreadable, a directory that cannot be written) means a fresh
parse, and a cache that cannot be written is not an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import marshal
import os
import sys
from functools import cache
from pathlib import Path

from knowledge.models import (
    PLATFORMS,
    Aspect,
    Benchmark,
    KnowledgeBase,
    Term,
    normalise,
)

HERE = Path(__file__).parent
FILES = ("concepts.yaml", "aspects.yaml", "glossary.yaml", "benchmarks.yaml")

__all__ = ["PLATFORMS", "Aspect", "Benchmark", "KnowledgeBase", "Term", "load", "normalise"]

CACHE_NAME = "knowledge.marshal"
_MAGIC = b"smx-knowledge-cache 1\n"


class _Named(io.StringIO):
    """A file's text with its path, so a YAML error says which file, as it did from the file."""

    def __init__(self, text: str, name: str) -> None:
        super().__init__(text)
        self.name = name


def _read(directory: Path) -> list[tuple[str, bytes]]:
    return [(name, (directory / name).read_bytes()) for name in FILES]


def _parse(files: list[tuple[str, bytes]], directory: Path) -> dict:
    import yaml  # only on a cache miss: a warm `smx ask explain cpm` never imports PyYAML

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    merged: dict = {}
    for name, content in files:
        text = content.decode("utf-8")
        data = yaml.load(_Named(text, str(directory / name)), Loader=loader) or {}
        # A key in two files would silently replace the first file's data.
        clash = sorted(set(merged) & set(data))
        if clash:
            raise ValueError(f"{name}: {clash} already defined by another knowledge file")
        merged.update(data)
    return merged


def read_raw(directory: Path = HERE) -> dict:
    return _parse(_read(directory), directory)


def cache_dir() -> Path:
    """Where `load()` keeps the parsed knowledge: $XDG_CACHE_HOME/smx, else ~/.cache/smx."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "smx"


def _key(files: list[tuple[str, bytes]]) -> bytes:
    from bot import __version__

    digest = hashlib.sha256(_MAGIC)
    digest.update(f"{__version__}\0{sys.version}\0".encode())
    for name, content in files:
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest().encode()


def _cached(path: Path, key: bytes) -> dict | None:
    """The parsed data stored under `key`, or None when the file is missing, is for other
    files, or is damaged in any way."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    head = _MAGIC + key + b"\n"
    if not blob.startswith(head):
        return None
    checksum, sep, payload = blob[len(head) :].partition(b"\n")
    if not sep or hashlib.sha256(payload).hexdigest().encode() != checksum:
        return None
    try:
        data = marshal.loads(payload)
    except Exception:  # whatever a damaged payload makes marshal raise: parse afresh instead
        return None
    return data if isinstance(data, dict) else None


def _store(path: Path, key: bytes, raw: dict) -> None:
    """Write the cache whole or not at all: a temporary file beside it, renamed over it, so a
    reader (or another writer) never sees half a file. Failing to write is not an error."""
    tmp = None
    try:
        payload = marshal.dumps(raw)
        path.parent.mkdir(parents=True, exist_ok=True)
        blob = _MAGIC + key + b"\n" + hashlib.sha256(payload).hexdigest().encode() + b"\n"
        fd, tmp = _temporary(path)
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob + payload)
        os.replace(tmp, path)
        tmp = None
    except (OSError, ValueError):
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _temporary(path: Path) -> tuple[int, str]:
    import tempfile

    return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)


def load_from(directory: Path, *, cache_in: Path | None = None) -> KnowledgeBase:
    """The validated knowledge in `directory`; with `cache_in` (a directory), the parse is kept
    there and reused while the files' bytes stay the same. Validated either way."""
    files = _read(directory)
    if cache_in is None:
        return KnowledgeBase.model_validate(_parse(files, directory))
    path = cache_in / CACHE_NAME
    key = _key(files)
    raw = _cached(path, key)
    if raw is not None:
        return KnowledgeBase.model_validate(raw)
    raw = _parse(files, directory)
    # Validated before it is kept: nothing that fails validation is ever written.
    knowledge = KnowledgeBase.model_validate(raw)
    _store(path, key, raw)
    return knowledge


@cache
def load() -> KnowledgeBase:
    return load_from(HERE, cache_in=cache_dir())


@cache
def term_index() -> dict[str, Term]:
    """Every normalised name and alias of every term, to its term."""
    return {normalise(n): t for t in load().terms for n in (t.key, t.name, *t.aliases)}


@cache
def aspect_index() -> dict[str, Aspect]:
    return {normalise(n): a for a in load().aspects for n in (a.key, a.title, *a.aliases)}


def benchmarks_for(platform: str) -> dict[str, Benchmark]:
    """The platform's figures by metric name (cpm, ctr, ...); empty when there are none."""
    return {b.metric: b for b in load().benchmarks if b.platform == platform}
