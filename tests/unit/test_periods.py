"""Periods: ISO weeks, months and years cut at local midnight in the server's zone, DST included."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from pipeline.errors import ConfigError
from pipeline.stats.periods import latest_complete, parse_period, period_containing, periods_between

NY, LONDON, UTC = "America/New_York", "Europe/London", "UTC"


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


# key, zone, start (UTC), end (UTC), hours, label
PERIODS = [
    ("2026-W46", NY, "2026-11-09 05:00", "2026-11-16 05:00", 168, "Week 46, 2026 (Nov 9–15)"),
    # DST starts Sun Mar 8 2026 in New York: the week loses an hour
    ("2026-W10", NY, "2026-03-02 05:00", "2026-03-09 04:00", 167, "Week 10, 2026 (Mar 2–8)"),
    # DST ends Sun Nov 1 2026 in New York: the week gains one, and spans two months
    ("2026-W44", NY, "2026-10-26 04:00", "2026-11-02 05:00", 169, "Week 44, 2026 (Oct 26–Nov 1)"),
    ("2026-W13", LONDON, "2026-03-23 00:00", "2026-03-29 23:00", 167, "Week 13, 2026 (Mar 23–29)"),
    ("2026-W43", LONDON, "2026-10-18 23:00", "2026-10-26 00:00", 169, "Week 43, 2026 (Oct 19–25)"),
    # ISO weeks straddle years: week 1 of 2026 starts in 2025; 2026 and 2020 have a week 53
    ("2026-W01", UTC, "2025-12-29 00:00", "2026-01-05 00:00", 168, "Week 1, 2026 (Dec 29–Jan 4)"),
    ("2026-W53", UTC, "2026-12-28 00:00", "2027-01-04 00:00", 168, "Week 53, 2026 (Dec 28–Jan 3)"),
    ("2020-W53", UTC, "2020-12-28 00:00", "2021-01-04 00:00", 168, "Week 53, 2020 (Dec 28–Jan 3)"),
    ("2027-W01", UTC, "2027-01-04 00:00", "2027-01-11 00:00", 168, "Week 1, 2027 (Jan 4–10)"),
    ("2026-W46", "Asia/Kolkata", "2026-11-08 18:30", "2026-11-15 18:30", 168, "Week 46, 2026 (Nov 9–15)"),
    # months: lengths, leap years, DST
    ("2026-02", UTC, "2026-02-01 00:00", "2026-03-01 00:00", 672, "February 2026"),
    ("2024-02", UTC, "2024-02-01 00:00", "2024-03-01 00:00", 696, "February 2024"),
    ("2026-04", UTC, "2026-04-01 00:00", "2026-05-01 00:00", 720, "April 2026"),
    ("2026-03", NY, "2026-03-01 05:00", "2026-04-01 04:00", 743, "March 2026"),
    ("2026-10", NY, "2026-10-01 04:00", "2026-11-01 04:00", 744, "October 2026"),
    ("2026-11", NY, "2026-11-01 04:00", "2026-12-01 05:00", 721, "November 2026"),
    ("2026-12", UTC, "2026-12-01 00:00", "2027-01-01 00:00", 744, "December 2026"),
    # years
    ("2026", NY, "2026-01-01 05:00", "2027-01-01 05:00", 8760, "2026 in review"),
    ("2024", UTC, "2024-01-01 00:00", "2025-01-01 00:00", 8784, "2024 in review"),
]


@pytest.mark.parametrize("key,tz,start,end,hours,label", PERIODS)
def test_parse_period(key, tz, start, end, hours, label):
    p = parse_period(key, tz)
    assert (p.key, p.start, p.end) == (key, z(start), z(end))
    assert p.hours == hours
    assert p.label == label
    assert p.start.tzinfo is not None and p.start.utcoffset() == timedelta(0)
    assert p.contains(p.start) and not p.contains(p.end)
    assert p.issue_key == f"{p.kind}-{key}"


@pytest.mark.parametrize("key,kind", [("2026-W46", "weekly"), ("2026-10", "monthly"), ("2026", "yearly")])
def test_the_kind_comes_from_the_key(key, kind):
    assert parse_period(key, UTC).kind == kind
    assert parse_period(key, UTC, kind).kind == kind


ZONES = [NY, LONDON, UTC, "America/Santiago", "Australia/Lord_Howe", "Pacific/Auckland", "Asia/Kolkata"]


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("kind,first,last", [("weekly", "2025-W01", "2027-W52"),
                                             ("monthly", "2025-01", "2027-12"), ("yearly", "2024", "2027")])
def test_periods_tile_time_and_start_at_local_midnight(kind, first, last, tz):
    """Santiago's DST starts at midnight (00:00 does not exist); Lord Howe moves by 30 minutes."""
    periods = periods_between(kind, first, last, tz)
    zone = ZoneInfo(tz)
    for a, b in zip(periods, periods[1:]):
        assert a.end == b.start and a.next() == b and b.previous() == a
    for p in periods:
        local = p.start.astimezone(zone)
        assert local.date() == p.first_day
        assert (p.start - timedelta(microseconds=1)).astimezone(zone).date() == p.first_day - timedelta(days=1)
        assert p.last_day == (p.end - timedelta(microseconds=1)).astimezone(zone).date()
        if kind == "weekly":
            assert p.first_day.isoweekday() == 1 and p.hours in (166.5, 167, 167.5, 168, 168.5, 169)


@pytest.mark.parametrize("key,previous", [("2026-W01", "2025-W52"), ("2027-W01", "2026-W53"), ("2026-W46", "2026-W45"),
                                          ("2026-01", "2025-12"), ("2026-12", "2026-11"), ("2026", "2025")])
def test_previous_crosses_year_boundaries(key, previous):
    assert parse_period(key, NY).previous().key == previous


# kind, now (UTC), zone, the latest complete period
LATEST = [
    ("weekly", "2026-11-16 05:00:00", NY, "2026-W46"),   # exactly Monday 00:00 local: W46 has just ended
    ("weekly", "2026-11-16 04:59:59", NY, "2026-W45"),   # one second earlier W46 is still running
    ("weekly", "2026-11-16 00:00:00", UTC, "2026-W46"),
    ("weekly", "2027-01-04 00:00:00", UTC, "2026-W53"),
    ("weekly", "2027-01-03 23:59:59", UTC, "2026-W52"),
    ("weekly", "2026-03-09 04:00:00", NY, "2026-W10"),   # the 167-hour week ends an hour early in UTC
    ("monthly", "2026-11-01 04:00:00", NY, "2026-10"),
    ("monthly", "2026-11-01 03:59:59", NY, "2026-09"),
    ("monthly", "2026-01-01 00:00:00", UTC, "2025-12"),
    ("yearly", "2027-01-01 05:00:00", NY, "2026"),
    ("yearly", "2027-01-01 04:59:59", NY, "2025"),
]


@pytest.mark.parametrize("kind,now,tz,expected", LATEST)
def test_latest_complete(kind, now, tz, expected):
    p = latest_complete(kind, z(now), tz)
    assert p.key == expected
    assert p.end <= z(now) < p.next().end
    assert p.is_complete(z(now)) and not p.next().is_complete(z(now))


BAD_KEYS = [
    ("2026-W54", "ISO weeks 01..53"),
    ("2025-W53", "ISO weeks 01..52"),
    ("2026-W00", "ISO weeks 01..53"),
    ("2026-13", "month must be 01..12"),
    ("2026-00", "month must be 01..12"),
    ("0000", "0001 or later"),
    ("26", "2026-W46"),
    ("2026-W5", "2026-W46"),
    ("2026-1", "2026-W46"),
    ("weekly-2026-W46", "2026-W46"),
    ("2026-w46", "2026-W46"),
    ("", "2026-W46"),
]


@pytest.mark.parametrize("key,hint", BAD_KEYS)
def test_bad_keys_say_what_to_use(key, hint):
    with pytest.raises(ConfigError) as err:
        parse_period(key, UTC)
    message = str(err.value)
    assert hint in message and repr(key) in message and "\n" not in message


def test_a_key_of_another_kind_and_unknown_names_are_refused():
    with pytest.raises(ConfigError, match="is monthly, not weekly"):
        parse_period("2026-10", UTC, "weekly")
    with pytest.raises(ConfigError, match="unknown period kind 'daily'"):
        parse_period("2026-10", UTC, "daily")
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus'"):
        parse_period("2026-10", "Mars/Olympus")
    with pytest.raises(ValueError, match="aware"):
        latest_complete("weekly", datetime(2026, 1, 1), UTC)


def test_periods_between_takes_instants_or_keys():
    keys = [p.key for p in periods_between("monthly", z("2025-11-30 12:00"), z("2026-02-01 04:59"), NY)]
    assert keys == ["2025-11", "2025-12", "2026-01"]  # Feb 1 04:59Z is still January 31 in New York
    weeks = [p.key for p in periods_between("weekly", "2026-W52", "2027-W02", UTC)]
    assert weeks == ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]
    assert periods_between("yearly", "2027", "2026", UTC) == []


def test_period_containing_uses_the_local_date():
    # 2026-11-16 03:00Z is still Sunday Nov 15 in New York, but Monday in UTC
    assert period_containing("weekly", z("2026-11-16 03:00"), NY).key == "2026-W46"
    assert period_containing("weekly", z("2026-11-16 03:00"), UTC).key == "2026-W47"
    assert period_containing("yearly", z("2027-01-01 03:00"), NY).key == "2026"
    assert parse_period("2026-W46", NY).first_day == date(2026, 11, 9)
