"""Evidence files: what a borrower may upload, judged by the bytes, not by what the browser
says. A file is taken only when its content is a PDF, a JPEG or a PNG and its name and
declared type say the same kind (a `.pdf` that is a PNG, or text, is refused), within the size
limit. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from api.selfservice.forms import Invalid

# The kinds taken: content type, the bytes a file of it starts with, and its names.
KINDS: dict[str, tuple[bytes, frozenset[str]]] = {
    "application/pdf": (b"%PDF-", frozenset({".pdf"})),
    "image/jpeg": (b"\xff\xd8\xff", frozenset({".jpg", ".jpeg"})),
    "image/png": (b"\x89PNG\r\n\x1a\n", frozenset({".png"})),
}


@dataclass(frozen=True)
class Evidence:
    content_type: str
    content: bytes


def sniff(content: bytes) -> str | None:
    """The content type the bytes are, among those taken; None for anything else."""
    for content_type, (magic, _) in KINDS.items():
        if content.startswith(magic):
            return content_type
    return None


def check_file(filename: str, declared: str, content: bytes, max_bytes: int) -> Evidence:
    """The file as it will be kept; `Invalid` when it is too large, empty, or not what its
    name and declared type say."""
    if len(content) > max_bytes:
        raise Invalid("file.too_large")
    if not content:
        raise Invalid("file.empty")
    actual = sniff(content)
    if actual is None:
        raise Invalid("file.type")
    _, suffixes = KINDS[actual]
    declared_type = declared.split(";")[0].strip().lower()
    if PurePosixPath(filename.lower()).suffix not in suffixes or declared_type not in (
        actual,
        "application/octet-stream",
        "",
    ):
        raise Invalid("file.mislabelled")
    return Evidence(content_type=actual, content=content)
