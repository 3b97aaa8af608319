"""Start the development broker: Mosquitto with the project's config when installed, else the embedded one."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import getpass
import logging
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from broker.errors import BrokerError
from kernel.settings import DEV_PASSWORD, DEV_USERNAME

log = logging.getLogger(__name__)


class BrokerKind(enum.StrEnum):
    AUTO = "auto"
    MOSQUITTO = "mosquitto"
    EMBEDDED = "embedded"


class BrokerSettings(BaseModel):
    """How to run the development broker."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field("127.0.0.1", description="address to listen on (loopback for development)")
    port: int = Field(1883, ge=1, le=65535, description="TCP port to listen on")
    data_dir: Path = Field(Path("var/broker"), description="where config, password file and persistence go")
    username: str = Field(DEV_USERNAME, description="the one development account")
    password: SecretStr = Field(SecretStr(DEV_PASSWORD), description="its password")
    kind: BrokerKind = Field(BrokerKind.AUTO, description="auto: Mosquitto if installed, else embedded")


@dataclass
class RunningBroker:
    """A started broker; ``stop()`` shuts it down and waits for it."""

    kind: BrokerKind
    host: str
    port: int
    _process: subprocess.Popen[bytes] | None = None
    _embedded: _EmbeddedBroker | None = None

    def describe(self) -> str:
        name = "Mosquitto" if self.kind is BrokerKind.MOSQUITTO else "embedded amqtt broker"
        return f"{name} on mqtt://{self.host}:{self.port}"

    def alive(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return self._embedded is not None and self._embedded.thread.is_alive()

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._embedded is not None:
            self._embedded.stop(timeout_s)


def mosquitto_binary() -> str | None:
    """Path of the mosquitto executable, if installed (Debian puts it in /usr/sbin)."""
    return shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")


def start_broker(settings: BrokerSettings) -> RunningBroker:
    """Start the broker ``settings`` asks for and return once it accepts connections."""
    _check_port_free(settings.host, settings.port)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    kind = settings.kind
    if kind is BrokerKind.AUTO:
        kind = BrokerKind.MOSQUITTO if mosquitto_binary() else BrokerKind.EMBEDDED
    if kind is BrokerKind.MOSQUITTO:
        return _start_mosquitto(settings)
    return _start_embedded(settings)


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR as the brokers set it: a port in TIME_WAIT is free, a listening one is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise BrokerError(
                f"cannot start the broker: {host}:{port} is already in use ({exc.strerror}); "
                "stop the other broker or pick another port with --port / GRIDWATCH_BROKER_PORT"
            ) from exc


def _wait_for_port(host: str, port: int, timeout_s: float, alive: callable) -> bool:  # type: ignore[valid-type]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive():
            return False
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return True
        time.sleep(0.05)
    return False


def render_dev_config(settings: BrokerSettings, password_file: Path) -> str:
    """The Mosquitto development config for ``settings`` (template in broker/conf/)."""
    template = resources.files("broker").joinpath("conf/mosquitto-dev.conf.tmpl").read_text()
    return Template(template).substitute(
        host=settings.host, port=settings.port, password_file=password_file,
        data_dir=settings.data_dir.resolve(), run_user=getpass.getuser(),
    )


def _start_mosquitto(settings: BrokerSettings) -> RunningBroker:
    binary = mosquitto_binary()
    passwd = shutil.which("mosquitto_passwd")
    if binary is None or passwd is None:
        raise BrokerError("mosquitto (and mosquitto_passwd) are not installed; use --kind embedded")
    data_dir = settings.data_dir.resolve()
    password_file = data_dir / "passwords"
    password_file.unlink(missing_ok=True)
    done = subprocess.run(
        [passwd, "-b", "-c", str(password_file), settings.username, settings.password.get_secret_value()],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise BrokerError(f"mosquitto_passwd failed: {done.stderr.strip() or done.stdout.strip()}")
    password_file.chmod(0o600)
    conf = data_dir / "mosquitto.conf"
    conf.write_text(render_dev_config(settings, password_file))
    log_path = data_dir / "mosquitto.log"
    log_file = log_path.open("ab")
    # A session of its own: a terminal's Ctrl-C must reach only us, so that whoever started the broker can
    # stop its clients first (they flush to it) and the broker last.
    process = subprocess.Popen([binary, "-c", str(conf)], stdout=log_file, stderr=subprocess.STDOUT,
                               start_new_session=True)
    log_file.close()
    running = RunningBroker(BrokerKind.MOSQUITTO, settings.host, settings.port, _process=process)
    try:
        up = _wait_for_port(settings.host, settings.port, 10.0, running.alive)
    except BaseException:  # Ctrl-C while starting: never leave an orphan mosquitto behind
        running.stop()
        raise
    if not up:
        running.stop()
        tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise BrokerError(f"mosquitto did not start on {settings.host}:{settings.port}: {tail[0]}")
    return running


class _EmbeddedBroker:
    """amqtt running on its own event loop in a daemon thread."""

    def __init__(self, config: dict[str, object]) -> None:
        self.config = config
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        self.error: BaseException | None = None
        self._broker: object | None = None
        self.thread = threading.Thread(target=self._run, name="embedded-broker", daemon=True)

    def _run(self) -> None:
        from amqtt.broker import Broker  # the embedded broker's boundary; only imported when used

        asyncio.set_event_loop(self.loop)
        try:
            self._broker = Broker(self.config, loop=self.loop)
            self.loop.run_until_complete(self._broker.start())  # type: ignore[attr-defined]
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self.error = exc
            self.started.set()
            return
        self.started.set()
        self.loop.run_forever()

    def stop(self, timeout_s: float) -> None:
        if self._broker is None or not self.thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self.loop)  # type: ignore[attr-defined]
        with contextlib.suppress(Exception):
            future.result(timeout_s)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout_s)


def _start_embedded(settings: BrokerSettings) -> RunningBroker:
    from pwdlib import PasswordHash

    data_dir = settings.data_dir.resolve()
    password_file = data_dir / "passwords.argon2"
    hashed = PasswordHash.recommended().hash(settings.password.get_secret_value())
    password_file.write_text(f"{settings.username}:{hashed}\n")
    password_file.chmod(0o600)
    config: dict[str, object] = {
        "listeners": {"default": {"type": "tcp", "bind": f"{settings.host}:{settings.port}"}},
        "plugins": {
            "amqtt.plugins.authentication.FileAuthPlugin": {"password_file": str(password_file)},
        },
    }
    embedded = _EmbeddedBroker(config)
    embedded.thread.start()
    embedded.started.wait(10.0)
    if embedded.error is not None:
        raise BrokerError(f"embedded broker failed to start: {embedded.error}") from embedded.error
    if not embedded.started.is_set():
        raise BrokerError(f"embedded broker did not open {settings.host}:{settings.port} within 10 s")
    # Broker.start() returns only once its listeners are bound, so no port probe is needed here.
    return RunningBroker(BrokerKind.EMBEDDED, settings.host, settings.port, _embedded=embedded)
