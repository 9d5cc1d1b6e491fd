"""README.md documents how to run the tests (the same command as .ci/run) and the examples."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CI_RUN = ROOT / ".ci" / "run"
README = ROOT / "README.md"


def read(path):
    if not path.exists():
        pytest.skip(f"{path.relative_to(ROOT)} does not exist yet")
    return path.read_text(encoding="utf-8")


def test_readme_gives_the_ci_test_command():
    commands = [line.strip().removeprefix("(").removesuffix(")") for line in read(CI_RUN).splitlines()
                if "pytest" in line and not line.lstrip().startswith("#")]  # (a subshell there)
    assert commands, ".ci/run has no line that runs pytest"
    readme = read(README)
    for command in commands:
        assert command in readme, f"README.md does not show the test command from .ci/run: {command!r}"


def test_readme_shows_how_to_run_the_examples():
    assert "python -m pyflux.examples" in read(README)
