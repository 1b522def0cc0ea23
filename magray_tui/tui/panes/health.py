from magray_tui.tui.panes.base import PlannedPane


class HealthPane(PlannedPane):
    PANE_ID = "health"
    TITLE = "Health"
    SUMMARY = "Checks of everything magray depends on, and how fast it answers."
    PLANNED = (
        "It will hold: the embedding device and why it was chosen (GPU or CPU fallback), "
        "the database and index state, the LLM provider in use, and search/embedding "
        "latency percentiles."
    )
