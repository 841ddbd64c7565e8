"""Times: stored as UTC epoch milliseconds, cut into days and months in the user's zone."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: times must carry a zone")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_epoch_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def parse_timestamp(text: str) -> datetime:
    """An ISO-8601 timestamp ('Z' or an offset) as an aware UTC datetime.

    A naive timestamp is taken as UTC, which is what every agent log writes.
    """
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def resolve_zone(
    name: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> tzinfo:
    """The zone named (IANA), else `TZ`, else the system's local zone.

    A name that is given must be a zone: an empty or unknown one raises ValueError. A `TZ` the
    system cannot use (say `Nonsense/X`, which the C library would quietly read as UTC under the
    name 'Nonsense') never raises: UTC is used and `warn` (else the log) gets one line naming it.
    """
    if name is not None:
        if not name.strip():
            raise ValueError("empty time zone name (use an IANA name like Europe/Berlin)")
        if name.upper() == "UTC":
            return UTC
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r} (use an IANA name like Europe/Berlin)") from exc
    value = (os.environ if env is None else env).get("TZ")
    if value:
        zone = _env_zone(value)
        if zone is not None:
            return zone
        message = f"TZ={value!r} is not a time zone this system knows; using UTC (set TZ to a name like Europe/Berlin)"
        if warn is not None:
            warn(message)
        else:
            from tokenworth.core.logsetup import logger

            logger(__name__).warning(message)
        return UTC
    return _system_zone()


_POSIX_NAME = r"(?:[A-Za-z]{3,}|<[A-Za-z0-9+-]{3,}>)"
_POSIX_TZ = re.compile(rf"{_POSIX_NAME}[+-]?\d{{1,2}}(?::\d{{1,2}}){{0,2}}(?:{_POSIX_NAME}.*)?")
"""A POSIX TZ rule such as `EST5EDT,M3.2.0,M11.1.0` or `<+0330>-3:30`: no IANA name, but the C
library's local time follows it."""


def _env_zone(value: str) -> tzinfo | None:
    """The zone a `TZ` value means, or None when it means none: an IANA name (`:` allowed), a
    zone file's path, or a POSIX rule (these two as the C library reads them)."""
    key = value.removeprefix(":")
    if key.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    if os.path.isabs(key) and os.path.isfile(key):
        return _zone_of_file(key) or LocalTime()
    if _POSIX_TZ.fullmatch(value):
        return LocalTime()
    return None


LOCALTIME_FILE = "/etc/localtime"
"""The system's zone on Linux and macOS: a link into the zone database (its name is the zone's)."""


def _system_zone() -> tzinfo:
    """The system's zone by its IANA name when it can be found, else the C library's local time."""
    return _zone_of_file(LOCALTIME_FILE) or LocalTime()


def _zone_of_file(path: str) -> ZoneInfo | None:
    """The IANA zone a zone file (or a link to one) is, from its path under a `zoneinfo` folder."""
    target = os.path.realpath(path).replace(os.sep, "/")
    _, found, key = target.rpartition("/zoneinfo/")
    if not found:
        return None
    key = key.removeprefix("posix/").removeprefix("right/")
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return None


class LocalTime(tzinfo):
    """The C library's local time, asked date by date: its UTC offset follows daylight saving (a
    POSIX TZ rule, a zone file without a name), where `datetime.now().astimezone().tzinfo` would
    freeze today's offset for every date. Wall times follow PEP 495: in a repeated hour fold 0 is
    the first pass and fold 1 the second; in a skipped hour fold 0 uses the offset from before."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(seconds=self._instant(dt)[1])

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str:
        instant, _offset = self._instant(dt)
        return _localtime(instant).tm_zone

    def fromutc(self, dt: datetime) -> datetime:
        instant = _epoch_seconds(dt)
        offset = _localtime(instant).tm_gmtoff
        wall = (dt + timedelta(seconds=offset)).replace(fold=0)
        if self._instant(wall)[0] != instant:  # the second pass of a repeated hour
            wall = wall.replace(fold=1)
        return wall

    @staticmethod
    def _instant(dt: datetime | None) -> tuple[int, int]:
        """(UTC seconds, offset) of a wall time: the offsets in force a day either side are the
        candidates; those whose instant really has that offset are the wall time's readings."""
        if dt is None:
            now = int(time.time())
            return now, _localtime(now).tm_gmtoff
        wall = _epoch_seconds(dt)
        before = _localtime(wall - 86_400).tm_gmtoff
        after = _localtime(wall + 86_400).tm_gmtoff
        readings = sorted(
            {wall - offset for offset in (before, after) if _localtime(wall - offset).tm_gmtoff == offset}
        )
        if readings:
            instant = readings[-1] if dt.fold and len(readings) > 1 else readings[0]
            return instant, wall - instant
        offset = after if dt.fold else before  # a skipped wall time
        return wall - offset, offset

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LocalTime)

    def __hash__(self) -> int:
        return hash(LocalTime)

    def __repr__(self) -> str:
        return "LocalTime()"


def _epoch_seconds(dt: datetime) -> int:
    """Whole seconds since 1970 of `dt`'s wall time read as UTC (its zone ignored)."""
    return (dt.replace(tzinfo=None) - datetime(1970, 1, 1)) // timedelta(seconds=1)


def _localtime(seconds: int) -> time.struct_time:
    """`time.localtime`, or now's for an instant the platform cannot convert (before 1970 on
    Windows, far years)."""
    try:
        return time.localtime(seconds)
    except (OverflowError, OSError, ValueError):
        return time.localtime()


def zone_name(zone: tzinfo) -> str:
    key = getattr(zone, "key", None)
    if isinstance(key, str):
        return key
    return str(zone.tzname(datetime.now())) if zone is not UTC else "UTC"


def local_day_start(day: date, zone: tzinfo) -> datetime:
    """The UTC instant when `day` begins in `zone`."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def month_bounds(year: int, month: int, zone: tzinfo) -> tuple[datetime, datetime]:
    """UTC [start, end) of a calendar month in `zone`."""
    start = local_day_start(date(year, month, 1), zone)
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return start, local_day_start(nxt, zone)


def month_key(year: int, month: int) -> str:
    """'YYYY-MM' for (year, month): how months are named in reports, plans and exports."""
    return f"{year:04d}-{month:02d}"


def parse_month(text: str) -> tuple[int, int]:
    """'YYYY-MM' as (year, month), with a clear message when it is not."""
    try:
        year_s, month_s = text.split("-")
        year, month = int(year_s), int(month_s)
    except ValueError:
        raise ValueError(f"month must look like 2026-01, got {text!r}") from None
    if not 1 <= month <= 12 or len(year_s) != 4:
        raise ValueError(f"month must look like 2026-01, got {text!r}")
    check_year(year, text)
    return year, month


FIRST_YEAR, LAST_YEAR = 1970, 9998
"""The years a date typed by the user may name: the calendar's own edges (year 1, 9999) overflow
the month after, a day's end or a zone's offset."""


def check_year(year: int, text: str) -> None:
    """ValueError, naming `text`, for a year outside `FIRST_YEAR`..`LAST_YEAR`."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}, got {text!r}")


def parse_day_or_time(text: str, zone: tzinfo) -> datetime:
    """A user-given 'YYYY-MM-DD' (start of that local day) or ISO time, as UTC.

    A local time the clocks skipped (spring forward) is refused; one they passed twice (fall
    back) is the first of the two.
    """
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text) if len(text) != 10 else None
        day = date.fromisoformat(text) if moment is None else moment.date()
    except ValueError:
        raise ValueError(f"expected a date like 2026-01-31 or a time like 2026-01-31T14:00, got {text!r}") from None
    check_year(day.year, text)
    if moment is None:
        return local_day_start(day, zone)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
        if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment.replace(tzinfo=None):
            raise ValueError(
                f"{text} does not exist in {zone_name(zone)} (the clocks skipped it); give a time after"
                " the change, or one with its UTC offset, like 2026-01-31T14:00+01:00"
            )
    return moment.astimezone(UTC)


def parse_until_day_or_time(text: str, zone: tzinfo) -> datetime:
    """The exclusive end for a user-given `--until`, as UTC: 'YYYY-MM-DD' means up to and
    including that whole local day (the start of the next), like `report --until`; an ISO time
    stays that instant."""
    moment = parse_day_or_time(text, zone)  # says what is wrong with a malformed text
    if len(text.strip()) != 10:
        return moment
    return local_day_start(date.fromisoformat(text.strip()) + timedelta(days=1), zone)
