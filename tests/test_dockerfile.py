"""No container engine runs here, so the Dockerfile's essentials are checked as text."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def of(kind: str) -> list[str]:
    return [rest for word, rest in instructions() if word == kind]


def test_slim_python_base():
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", of("FROM")[0])


def test_runs_as_a_non_root_user():
    users = of("USER")
    assert users and users[-1] not in ("root", "0")
    # the user switch comes after every install step, before the entrypoint
    order = [w for w, _ in instructions()]
    assert max(i for i, w in enumerate(order) if w == "RUN") < order.index("USER")


def test_entrypoint_is_smx_run():
    assert json.loads(of("ENTRYPOINT")[-1]) == ["smx", "run"]


def test_healthcheck_calls_healthz_on_port():
    check = of("HEALTHCHECK")[0]
    assert "/healthz" in check and "PORT" in check and "CMD" in check


def test_database_lives_on_a_volume():
    env = " ".join(of("ENV"))
    db = re.search(r"SMX_DB=(\S+)", env).group(1)
    volume = json.loads(of("VOLUME")[0])[0]
    assert db.startswith(volume.rstrip("/") + "/")


def test_no_secret_is_baked_in():
    for kind in ("ENV", "ARG", "LABEL"):
        for rest in of(kind):
            assert not re.search(
                r"SLACK_(BOT_TOKEN|SIGNING_SECRET|APP_TOKEN|CLIENT_SECRET)", rest
            ), rest
    assert not re.search(r"xox[abpr]-|xapp-", DOCKERFILE)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", "*.db"} <= set(ignored)


def pip_installs(lines: list[str]) -> list[list[str]]:
    found = []
    for line in lines:
        for command in line.split("&&"):
            words = shlex.split(command)
            if "pip" in " ".join(words[:2]) and "install" in words:
                found.append(
                    [w for w in words[words.index("install") + 1 :] if not w.startswith("-")]
                )
    return found


def test_installs_the_same_thing_make_does():
    makefile = (ROOT / "Makefile").read_text()
    make_installs = [w for w in pip_installs(makefile.splitlines()) if w != ["pip"]]
    docker_installs = pip_installs(of("RUN"))
    # Both install the project itself from pyproject.toml and nothing listed on the side.
    assert docker_installs == [["."]]
    # (`make bench` adds the plot's matplotlib: an extra of the same pyproject.toml)
    assert {tuple(w) for w in make_installs} == {(".",), (".[test]",), (".[test,bench]",)}


def test_the_image_gets_every_package_pip_installs():
    """`pip install .` in the image needs each top-level package's source copied in first."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = [p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]]
    copied = {shlex.split(args)[0].rstrip("/") for args in of("COPY")}
    assert set(packages) <= copied, (packages, copied)
