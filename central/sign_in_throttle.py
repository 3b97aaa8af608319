"""Sign-in throttling: after a few failures an account, or a client address, waits before its next try, the
wait doubling with each further failure up to a cap; a success clears the account's count.

The counts live in the database (``sign_in_failures``), so hub processes behind one load balancer share them
and a restart does not reset them. A throttled try is refused before its password is hashed: guessing costs
the hub nothing while the caller waits (each argon2id hash is a ``argon2_memory_kib`` allocation)."""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from central.auth import TooManyAttempts
from central.clock import Clock
from central.db.engine import Database
from central.db.models import SignInFailure
from central.settings import SignInSettings

log = logging.getLogger(__name__)


def account_key(username: str) -> str:
    return f"account:{username.strip().lower()[:150]}"


def address_key(address: str) -> str:
    return f"address:{address[:150]}"


class SignInThrottle:
    """Checks and records sign-in failures for an (account, address) pair."""

    def __init__(self, db: Database, settings: SignInSettings, clock: Clock) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock

    def check(self, username: str, address: str) -> None:
        """Raise TooManyAttempts (with the seconds to wait) if the account or the address must wait."""
        now = self.clock.now()
        with self.db.session() as session:
            waits = [
                (row.locked_until - now).total_seconds()
                for key in (account_key(username), address_key(address))
                if (row := session.get(SignInFailure, key)) is not None
                and row.locked_until is not None and row.locked_until > now
            ]
        if waits:
            retry_after_s = math.ceil(max(waits))
            raise TooManyAttempts(
                f"too many failed sign-ins for this account or from this address: try again in {retry_after_s} s",
                retry_after_s,
            )

    def failed(self, username: str, address: str) -> None:
        now = self.clock.now()
        for key, free in (
            (account_key(username), self.settings.account_free_failures),
            (address_key(address), self.settings.address_free_failures),
        ):
            try:
                self._count(key, free, now)
            except IntegrityError:  # another process recorded this key's first failure at the same moment
                self._count(key, free, now)

    def succeeded(self, username: str) -> None:
        with self.db.session() as session:
            session.execute(delete(SignInFailure).where(SignInFailure.key == account_key(username)))

    def _count(self, key: str, free: int, now: datetime) -> None:
        forget = timedelta(seconds=self.settings.forget_after_s)
        with self.db.session() as session:
            row = session.get(SignInFailure, key, with_for_update=True)
            if row is None:
                row = SignInFailure(key=key, failures=0, last_failure_at=now, locked_until=None)
                session.add(row)
            elif now - row.last_failure_at > forget:
                row.failures = 0
            row.failures += 1
            row.last_failure_at = now
            if row.failures >= free:
                delay_s = min(self.settings.base_delay_s * 2 ** min(row.failures - free, 30), self.settings.max_delay_s)
                row.locked_until = now + timedelta(seconds=delay_s)
                log.warning("sign-in throttled: %s waits %.0f s after %d failures", key, delay_s, row.failures)
