"""`gridwatch edge run` and `gridwatch bench` from the command line: help teaches by example, bad input is
one line naming what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridwatch.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "examples"),
    [
        (["edge", "run", "--help"],
         ["gridwatch edge run --gateway-id gw-demo", "--config", "GRIDWATCH_GATEWAY_ID"]),
        (["bench", "--help"], ["gridwatch bench --anchor-python", "gridwatch bench --quick"]),
    ],
)
def test_help_teaches_by_example(args: list[str], examples: list[str]) -> None:
    result = runner.invoke(app, args, terminal_width=200)
    assert result.exit_code == 0
    for example in examples:
        assert example in result.output


def test_edge_run_without_gateway_id_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRIDWATCH_GATEWAY_ID", raising=False)
    result = runner.invoke(app, ["edge", "run"])
    assert result.exit_code == 1
    assert "--gateway-id is required" in result.output


def test_edge_run_with_a_bad_gateway_file_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text("gateway_id: gw-1\nstats_interval_s: -1\n")
    result = runner.invoke(app, ["edge", "run", "--config", str(config)])
    assert result.exit_code == 1
    assert str(config) in result.output and "stats_interval_s" in result.output


def test_bench_with_a_missing_model_fails_in_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bench", "--model", str(tmp_path / "nope.onnx")])
    assert result.exit_code == 1
    assert "nope.onnx not found" in result.output
