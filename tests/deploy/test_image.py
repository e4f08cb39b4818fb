"""The Dockerfile and its inputs, checked without a Docker engine."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
REGENERATE = (
    "regenerate it: .venv/bin/uv pip compile pyproject.toml --constraints requirements-lock.txt "
    "--generate-hashes --python-version 3.11 -o deploy/requirements-runtime.txt"
)


def pins(path: Path) -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s\\;]+)", path.read_text(), re.MULTILINE)
    return {name.lower().replace("_", "-"): version for name, version in found}


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ;]", spec, maxsplit=1)[0].lower().replace("_", "-")


def test_runtime_requirements_are_the_locks_versions_without_dev_tools() -> None:
    lock = pins(ROOT / "requirements-lock.txt")
    runtime = pins(ROOT / "deploy" / "requirements-runtime.txt")
    drifted = {n: (v, lock.get(n)) for n, v in runtime.items() if lock.get(n) != v}
    assert not drifted, (
        f"deploy/requirements-runtime.txt differs from the lock {drifted}; {REGENERATE}"
    )
    wanted = {requirement_name(spec) for spec in PYPROJECT["project"]["dependencies"]}
    missing = wanted - set(runtime)
    assert not missing, f"runtime dependencies missing from the image: {missing}; {REGENERATE}"
    dev = {requirement_name(spec) for spec in PYPROJECT["project"]["optional-dependencies"]["dev"]}
    assert not (dev - wanted) & set(runtime), "test and lint tools stay out of the image"
    assert "--hash=sha256:" in (ROOT / "deploy" / "requirements-runtime.txt").read_text()


def test_the_image_runs_the_cli_on_the_locks_python() -> None:
    base = re.search(r"^ARG PYTHON_IMAGE=python:(\d+\.\d+)-slim", DOCKERFILE, re.MULTILINE)
    assert base is not None
    lock_python = re.search(
        r"--python-version (\d+\.\d+)", (ROOT / "requirements-lock.txt").read_text()
    )
    assert lock_python is not None and base.group(1) == lock_python.group(1)
    assert PYPROJECT["project"]["requires-python"] == f">={base.group(1)}"
    assert 'ENTRYPOINT ["python", "-m", "workers.cli.main"]' in DOCKERFILE
    assert "--require-hashes /tmp/requirements-runtime.txt" in DOCKERFILE
    assert re.search(r"^USER overdue$", DOCKERFILE, re.MULTILINE)


def test_the_image_has_every_package_and_what_settings_find_beside_them() -> None:
    copied = set(re.findall(r"^COPY ([\w.-]+)/ ", DOCKERFILE, re.MULTILINE))
    packages = set(PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"])
    assert packages | {"migrations", "policies"} <= copied
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*") - 0] == "*"  # everything out, then what is copied back in
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert copied <= allowed and "deploy/overdue.env" not in allowed
    for source in re.findall(r"^COPY (?!--from)(.+) /tmp/$", DOCKERFILE, re.MULTILINE):
        assert set(source.split()) <= allowed


def test_the_image_has_the_font_letters_embed() -> None:
    """The worker renders letters with Debian's Noto Sans CJK (overdue/settings_letters.py)."""
    assert "apt-get install -y --no-install-recommends fonts-noto-cjk" in DOCKERFILE
    from overdue.settings_letters import LetterSettings

    assert str(LetterSettings().letter_font).startswith("/usr/share/fonts/opentype/noto/")


def test_the_image_carries_the_bytecode_it_cannot_write() -> None:
    """With PYTHONDONTWRITEBYTECODE and a read-only /app, only a compile at build time keeps
    the sandbox from compiling the workflow module's source for every workflow instance."""
    assert "PYTHONDONTWRITEBYTECODE=1" in DOCKERFILE
    packages = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    compiled = re.search(r"^RUN /opt/venv/bin/python -m compileall -q (.+)$", DOCKERFILE, re.M)
    assert compiled is not None and set(compiled.group(1).split()) == set(packages)
    assert DOCKERFILE.index("compileall") > DOCKERFILE.index("COPY workflows/ workflows/")
    assert DOCKERFILE.index("compileall") < DOCKERFILE.index("USER overdue")
