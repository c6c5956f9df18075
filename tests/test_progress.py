"""Long work is visible without a terminal: periodic log lines on the rixsim.progress logger, none for short work."""
import logging
import time

from rixsim.progress import progress


def slow_items(n, dt):
    for i in range(n):
        time.sleep(dt)
        yield i


def test_periodic_lines_when_no_bar_is_drawn(monkeypatch, caplog):
    monkeypatch.setenv("RIXSIM_PROGRESS", "0")          # no bar: a pipe, CI, a scheduler
    monkeypatch.setenv("RIXSIM_PROGRESS_INTERVAL", "0.05")
    with caplog.at_level(logging.INFO, logger="rixsim.progress"):
        out = list(progress(slow_items(6, 0.03), desc="map", total=6, unit="energy", requested=None))
    assert out == list(range(6))
    lines = [r.getMessage() for r in caplog.records if r.name == "rixsim.progress"]
    assert any(line.startswith("map: ") and "/6 energy done after" in line for line in lines), lines
    assert lines[-1].startswith("map: all 6 energy done")


def test_short_work_and_explicitly_quiet_work_log_nothing(monkeypatch, caplog):
    monkeypatch.setenv("RIXSIM_PROGRESS", "0")
    with caplog.at_level(logging.INFO, logger="rixsim.progress"):
        assert list(progress(range(100), desc="fast", requested=None)) == list(range(100))
        monkeypatch.setenv("RIXSIM_PROGRESS_INTERVAL", "0.01")
        assert list(progress(slow_items(3, 0.02), desc="quiet", requested=False)) == [0, 1, 2]
    assert not [r for r in caplog.records if r.name == "rixsim.progress"]
