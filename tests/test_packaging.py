"""The built wheel carries what a non-editable install (the Docker image) needs at run time:
profiles, projections, calibration, the Alembic migrations and the web page's files."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_model_data_and_migrations(tmp_path: Path) -> None:
    source = tmp_path / "src"  # build from a copy: setuptools leaves build/ beside its input
    for package in ("models", "indexer", "service"):
        shutil.copytree(
            ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next((tmp_path / "dist").glob("styletrace-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (ROOT / "models" / "profiles").iterdir():
        assert f"models/profiles/{needed.name}" in names
    assert "models/calibration/default.json" in names
    assert "indexer/alembic.ini" in names
    assert "indexer/migrations/env.py" in names
    assert "indexer/migrations/versions/0001_initial.py" in names
    for page_file in (ROOT / "service" / "web").iterdir():
        assert f"service/web/{page_file.name}" in names
