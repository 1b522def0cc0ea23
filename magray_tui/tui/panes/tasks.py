from magray_tui.tui.panes.base import PlannedPane


class TasksPane(PlannedPane):
    PANE_ID = "tasks"
    TITLE = "Tasks"
    SUMMARY = "The agent's task graph: what is to do, blocked, running or done."
    PLANNED = (
        "It will hold: tasks with their dependencies (a DAG), their state and owner, "
        "and keys to add, start, finish and link tasks."
    )
