"""The README's set-up commands and what CI runs stay the same."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands():
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text)


def test_ci_runs_the_readme_test_command_verbatim():
    main_job, tests = _readme_commands()[:2]
    assert main_job.endswith("hser demo")
    assert tests.endswith("python -m pytest")
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in ci_lines


def test_torch_is_pinned_before_the_package():
    for command in _readme_commands()[:2]:
        assert command.index("torch==2.13.0") < command.index("pip install -e")
