"""The task DAG: tasks, dependencies and their rules, stored in the memory database."""
