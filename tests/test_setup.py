"""scripts/setup and scripts/test: which Python they use, and that the Pythons promised are the ones CI tests."""
from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.fast

USAGE = "(usage: scripts/setup [--system] [--python PYTHON] [--venv DIR])"


def minor_versions(text: str) -> list[str]:
    return sorted(set(re.findall(r"\b3\.1\d\b", text)), key=lambda v: int(v.split(".")[1]))


def test_the_pythons_the_readme_promises_are_the_ones_ci_tests_and_setup_looks_for() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    said = re.search(r"\(([^)]*) are tested", readme)  # "(3.11, 3.12 and 3.13 are tested; …"
    assert said is not None
    promised = minor_versions(said.group(1))
    assert promised and promised[0] == "3.11"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    tested = re.search(r"for version in \$\(printf '%s\\n' ([\d. ]+) \"\$default\"", ci)
    assert tested is not None and tested.group(1).split() == promised
    setup = (ROOT / "scripts" / "setup").read_text(encoding="utf-8")
    candidates = re.search(r"for candidate in ((?:python3\.\d+ )+)python3; do", setup)
    assert candidates is not None
    assert sorted(candidates.group(1).split(), key=lambda c: int(c.split(".")[1])) == [f"python{v}" for v in promised]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["requires-python"] == f">={promised[0]}"
    assert "scripts/test" in ci  # CI runs the README's own command


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--python", "/nonexistent/python3"], "--python /nonexistent/python3: no such command"),
        (["--python", "false"], "--python false: does not run, or is older than Python 3.11"),
        (["--system", "--python"], "--python needs a value"),
        (["--venv", ""], "--venv needs a value"),
        (["--pyhton", "python3"], "unknown argument: --pyhton"),
    ],
)
def test_setup_refuses_what_it_cannot_use_in_one_line(arguments: list[str], message: str, tmp_path: Path) -> None:
    done = subprocess.run(["bash", str(ROOT / "scripts" / "setup"), *arguments], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"setup: {message} {USAGE}\n")


def test_the_test_script_hands_python_to_setup_and_stops_where_setup_refuses() -> None:
    done = subprocess.run(["bash", str(ROOT / "scripts" / "test"), "--python", "/nonexistent/python3", "-k", "x"],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (2, f"setup: --python /nonexistent/python3: no such command {USAGE}\n")
    done = subprocess.run(["bash", str(ROOT / "scripts" / "test"), "--venv"], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (2, "test: --venv needs a value\n")
