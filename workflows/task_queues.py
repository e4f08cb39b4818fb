"""Task-queue names, shared by starters, workflows and workers."""

OVERDUE_TASK_QUEUE = "overdue-accounts"
