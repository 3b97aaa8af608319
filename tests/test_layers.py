"""The layers point down only, and each install carries only its own libraries (issue 16).

The import graph is checked by import-linter against the contracts in pyproject.toml ([tool.importlinter]);
the installs are checked by importing each side's entry points in a child process in which the other side's
libraries cannot be imported, as on a gateway or a hub installed with only its own extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

HUB_LIBRARIES = ("fastapi", "starlette", "sqlalchemy", "alembic", "uvicorn", "sse_starlette", "jwt", "psycopg",
                 "matplotlib")
EDGE_LIBRARIES = ("cv2", "onnxruntime", "supervision")


def test_import_contracts_are_kept() -> None:
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True) == 0


def _run_without(blocked: tuple[str, ...], code: str) -> subprocess.CompletedProcess[str]:
    guard = textwrap.dedent(f"""
        import sys
        BLOCKED = {blocked!r}

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: not in this install)")
                return None

        sys.meta_path.insert(0, Block())
    """)
    return subprocess.run([sys.executable, "-c", guard + textwrap.dedent(code)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("args", [["edge", "run", "--help"], ["sensors", "run", "--help"],
                                  ["cameras", "validate", "--help"], ["models", "inspect", "--help"]])
def test_a_gateway_install_runs_without_the_hub_libraries(args: list[str]) -> None:
    done = _run_without(HUB_LIBRARIES, f"""
        import edge.worker, edge.sensors.reader, kernel.camera_config, models.spec
        from typer.testing import CliRunner
        from gridwatch.cli.main import app
        result = CliRunner().invoke(app, {args!r})
        assert result.exit_code == 0, result.output
        assert not [m for m in sys.modules if m.split(".")[0] in ("central", "benchmarks")], "hub code imported"
    """)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("args", [["hub", "--help"], ["broker", "--help"]])
def test_a_hub_install_runs_without_camera_and_inference_libraries(args: list[str]) -> None:
    done = _run_without(EDGE_LIBRARIES, f"""
        import central.app, central.hub
        from typer.testing import CliRunner
        from gridwatch.cli.main import app
        result = CliRunner().invoke(app, {args!r})
        assert result.exit_code == 0, result.output
        assert "benchmarks" not in sys.modules
    """)
    assert done.returncode == 0, done.stderr
