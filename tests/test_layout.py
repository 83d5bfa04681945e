"""The package's layers: imports go down only (import-linter's contracts in pyproject.toml), and the
contracts catch an import against them, such as each of the three cycles the package once had."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.fast


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    program = Path(sys.executable).with_name("lint-imports")
    if not program.exists():
        pytest.skip("import-linter is not installed (scripts/setup installs it)")
    return subprocess.run([str(program), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})


def test_every_import_contract_is_kept() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 broken." in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # The edition record read by the site from the module that builds editions (which refreshes the site).
        ("audio/site/catalogue.py", "from ..edition import build", "audio.site.catalogue -> audio.edition"),
        # A command module importing the group that registers it.
        ("audio/cli/upkeep.py", "from .main import main", "audio.cli.upkeep -> audio.cli.main"),
        # The warm process importing the command line it runs.
        ("audio/warm/copy.py", "from ..cli.main import run_command", "audio.warm.copy -> audio.cli.main"),
        # The voice choosing module importing what speaks through it.
        ("audio/speech/voice.py", "from . import synthesis", "audio.speech.voice -> audio.speech.synthesis"),
        ("audio/speech/takes.py", "from .voice import take_key", "audio.speech.takes -> audio.speech.voice"),
    ],
)
def test_an_import_against_the_layers_is_caught(tmp_path: Path, module: str, line: str, broken: str) -> None:
    copy = tmp_path / "checkout"
    copy.mkdir()
    shutil.copytree(ROOT / "audio", copy / "audio", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    target = copy / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    done = lint_imports(copy)
    assert done.returncode == 1, done.stdout
    assert broken in done.stdout
