"""The adaptive progress indicator in the status bar, one entry per background job.

How a job shows depends on how long it has run, so quick work never flickers:
nothing under ~0.1 s, a light spinner to 0.5 s, a stronger one (with elapsed time) to
5 s, then a bar with counts, rate and ETA once the job reports progress.
"""

from __future__ import annotations

from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget

from magray_tui.tui.jobs import Job, JobRegistry

QUIET_S = 0.1
LIGHT_S = 0.5
STRONG_S = 5.0
TICK_S = 0.1
BAR_WIDTH = 16
LIGHT_FRAMES = "⠁⠂⠄⡀⢀⠠⠐⠈"
STRONG_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s" if seconds >= 10 else f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def _counts(job: Job) -> str:
    """`3/7 files`, or `42%` for a job that counts bytes (an ingest: the honest measure of
    its progress, while files finish in batches)."""
    assert job.total
    if job.unit == "bytes":
        return f"{min(100, int(100 * job.done / job.total))}%"
    return f"{job.done:,}/{job.total:,}" + (f" {job.unit}" if job.unit else "")


def describe_job(job: Job, now: float) -> list[tuple[str, str] | str] | None:
    """The parts that show `job` at time `now`, or None while it is too young to show."""
    elapsed = now - job.started
    if elapsed < QUIET_S:
        return None
    frame = int(elapsed / TICK_S)
    if elapsed < LIGHT_S:
        return [(LIGHT_FRAMES[frame % len(LIGHT_FRAMES)], "dim"), (f" {job.label}", "dim")]
    if elapsed < STRONG_S or not job.total:
        spinner = STRONG_FRAMES[frame % len(STRONG_FRAMES)]
        parts: list[tuple[str, str] | str] = [(spinner, "bold $accent"), f" {job.label} "]
        if job.total:
            parts.append((f"{_counts(job)} ", "dim"))
        if job.detail:
            parts.append((f"{job.detail} ", "dim"))
        parts.append((_duration(elapsed), "dim"))
        return parts
    filled = round(BAR_WIDTH * min(job.done / job.total, 1.0))
    parts = [
        f"{job.label} ",
        ("━" * filled, "$accent"),
        ("━" * (BAR_WIDTH - filled), "$panel-lighten-2"),
        f" {_counts(job)}",
    ]
    rate, eta = job.rate(now), job.eta(now)
    if job.detail:  # the job's own words (and rate) say more than done/elapsed
        parts.append((f" · {job.detail}", "dim"))
    elif rate is not None:
        parts.append((f" · {rate:,.0f}/s", "dim"))
    if eta is not None:
        parts.append((f" · ETA {_duration(eta)}", "dim"))
    return parts


class JobProgress(Widget):
    """Shows the running jobs of a `JobRegistry`; ticks only while there are jobs."""

    DEFAULT_CSS = """
    JobProgress {
        height: 1;
        width: 1fr;
        padding: 0 1;
    }
    """

    class JobsChanged(Message):
        """Posted from any thread when the registry changes."""

    def __init__(self, jobs: JobRegistry, **kwargs) -> None:
        super().__init__(**kwargs)
        self.jobs = jobs
        self._timer: Timer | None = None
        self._shown: Content = Content("")

    def on_mount(self) -> None:
        # post_message is thread-safe, so workers can report straight from their thread.
        self.jobs.on_change = lambda: self.post_message(self.JobsChanged())
        self._timer = self.set_interval(TICK_S, self._redraw, pause=True)

    def on_unmount(self) -> None:
        self.jobs.on_change = None

    def on_job_progress_jobs_changed(self, _: JobsChanged) -> None:
        if self._timer is not None:
            self._timer.resume()
        self._redraw()

    def _redraw(self) -> None:
        jobs = self.jobs.snapshot()
        if not jobs and self._timer is not None:
            self._timer.pause()
        now = self.jobs.clock()
        parts: list[tuple[str, str] | str] = []
        for job in jobs:
            shown = describe_job(job, now)
            if shown is None:
                continue
            if parts:
                parts.append(("  │  ", "dim"))
            parts += shown
        content = Content.assemble(*parts)
        if content != self._shown:
            self._shown = content
            self.refresh()

    def render(self) -> Content:
        return self._shown
