"""The adaptive progress indicator: quiet, light, strong, then a bar with rate and ETA."""

from __future__ import annotations

from textual.content import Content

from magray_tui.tui.jobs import JobRegistry
from magray_tui.tui.widgets.progress import describe_job


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def shown(jobs: JobRegistry) -> str:
    parts = []
    for job in jobs.snapshot():
        described = describe_job(job, jobs.clock())
        if described:
            parts.append(Content.assemble(*described).plain)
    return " | ".join(parts)


def test_stages_by_elapsed_time():
    clock = FakeClock()
    jobs = JobRegistry(clock=clock)
    job = jobs.start("reindexing")
    clock.now += 0.05
    assert shown(jobs) == ""  # under 0.1 s: nothing at all
    clock.now += 0.2
    light = shown(jobs)
    assert "reindexing" in light and "s" not in light.replace("reindexing", "")
    clock.now += 1.0
    assert "1.2s" in shown(jobs)  # the stronger spinner shows elapsed time
    job.progress(300, 1000)
    clock.now += 4.75  # 6 s in: 300 done, 50/s
    bar = shown(jobs)
    assert "300/1,000" in bar and "50/s" in bar and "ETA 14s" in bar and "━" in bar
    jobs.finish(job)
    assert shown(jobs) == ""


def test_several_jobs_are_listed_and_failures_end_the_job():
    clock = FakeClock()
    jobs = JobRegistry(clock=clock)
    jobs.start("searching")
    try:
        with jobs.track("adding"):
            clock.now += 1
            assert "searching" in shown(jobs) and "adding" in shown(jobs)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert [j.label for j in jobs.snapshot()] == ["searching"]


def test_changes_are_reported():
    seen = []
    jobs = JobRegistry(on_change=lambda: seen.append(1))
    with jobs.track("x") as job:
        job.progress(1, 2)
    assert len(seen) == 3


def test_an_ingest_shows_its_bytes_as_percent_and_counts_files_and_chunks():
    from magray_tui.ingest.report import IngestProgress
    from magray_tui.tui.panes.memory_ingest_state import IngestJob

    clock = FakeClock()
    jobs = JobRegistry(clock=clock)
    written = []
    reporter = IngestJob(jobs, "ingesting docs", on_written=lambda: written.append(1))
    clock.now += 6
    # Seven small files in one batch: no file is finished until the batch is stored,
    # but the bytes embedded so far show how far it is.
    reporter(IngestProgress("ingesting", 0, 7, 1806, 3000, 12_000, 40_000, 6, 5))
    bar = shown(jobs)
    assert "30%" in bar and "1,806 chunks · 0/7 files" in bar and "━" in bar
    assert written == []
    reporter(IngestProgress("ingesting", 7, 7, 3000, 3000, 40_000, 40_000, 9, 8))
    assert "100%" in shown(jobs) and written == [1]  # the stored batch refreshes counts
    reporter.finish()
    assert shown(jobs) == ""
