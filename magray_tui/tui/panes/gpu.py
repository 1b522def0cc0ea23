from magray_tui.tui.panes.base import PlannedPane


class GpuPane(PlannedPane):
    PANE_ID = "gpu"
    TITLE = "GPU"
    SUMMARY = "GPU use by the embedding model and local LLMs, read through NVML."
    PLANNED = (
        "It will hold: utilisation, memory, temperature and power per GPU with short "
        "history graphs, N/A for metrics a card does not report, and a clear state when "
        "no GPU or no NVML library is present."
    )
