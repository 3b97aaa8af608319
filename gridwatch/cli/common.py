"""Options and output shared by the subcommands: logging set-up and turning errors into one-line exits."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer

from broker.errors import BrokerError
from edge.errors import EdgeError
from kernel.errors import KernelError
from models.errors import ModelError

KNOWN_ERRORS: tuple[type[BaseException], ...] = (KernelError, EdgeError, BrokerError, ModelError)


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # amqtt logs every client's packet at INFO; keep the console readable.
    logging.getLogger("amqtt").setLevel(logging.WARNING)
    logging.getLogger("transitions").setLevel(logging.WARNING)


def fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn the project's own errors into a one-line message and exit status 1, never a traceback."""
    try:
        yield
    except KNOWN_ERRORS as exc:
        fail(str(exc))


def not_built_yet(command: str, issue: int) -> NoReturn:
    fail(f"`gridwatch {command}` is not built yet (tracked in issue {issue})", code=2)
