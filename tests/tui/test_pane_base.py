"""What panes share (panes/base.py): a failed worker is reported once, by the base, and the
pane's hook shows it where the result would have been."""

from __future__ import annotations

from .pilot_helpers import result_ids, text_of, wait_for_results, wait_until


async def test_a_linked_memory_that_is_gone_is_reported_once_where_the_result_would_be(
    make_app, seeded_settings
):
    """A task can link a memory that was purged since: opening it fails in the Memory
    pane's query worker, with one error toast and the reason in the summary line."""
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        memory = app.pane("memory")
        before = len(app.notes)
        memory.show_record("m-purged-long-ago")
        await wait_until(
            pilot, lambda: "m-purged-long-ago" in text_of(app, "#memory-summary"), what="summary"
        )
        await pilot.pause(0.3)  # a second report would have come by now
        new = app.notes[before:]
        assert len(new) == 1, new
        assert "m-purged-long-ago" in new[0]
        assert new[0] in text_of(app, "#memory-summary")
        assert not memory.has_class("-failed")  # the pane itself still works
        assert result_ids(app)  # the rows shown before stay
