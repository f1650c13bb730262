"""In-process jobs: with several API workers on one machine, one of them runs the jobs."""

from __future__ import annotations

from pathlib import Path

from crm.jobs import RunnerLock


def test_only_one_worker_holds_the_runner_lock_and_another_takes_over_when_it_stops(tmp_path: Path) -> None:
    first, second = RunnerLock(tmp_path / "jobs.lock"), RunnerLock(tmp_path / "jobs.lock")
    assert first.held() is True
    assert second.held() is False
    assert first.held() is True  # kept between rounds
    first.release()
    assert second.held() is True
    assert first.held() is False
    second.release()
