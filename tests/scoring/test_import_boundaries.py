"""Imports point inward: scoring_hooks reads kb only through kb.compliance."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED_FROM_KB = {"kb.compliance", "kb.deadlines"}
FRAMEWORKS = ("flask", "flask_smorest", "marshmallow", "apscheduler")
DATABASE = ("sqlalchemy", "psycopg")


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_scoring_hooks_import_only_the_compliance_records_from_kb_and_nothing_of_service():
    for path in sorted((ROOT / "scoring_hooks").rglob("*.py")):
        for name in imported_modules(path):
            top = name.split(".")[0]
            assert top != "service", f"{path} imports {name}"
            if top == "kb":
                assert name in ALLOWED_FROM_KB, f"{path} imports {name}"
            assert top not in FRAMEWORKS + DATABASE, f"{path} imports {name}"


def test_importing_the_scoring_layer_loads_no_web_framework_or_scheduler():
    code = (
        "import sys, kb.compliance, scoring_hooks.exports, scoring_hooks.webhooks\n"
        "from scoring_hooks.profiles import load_profiles; load_profiles()\n"
        f"print(','.join(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
