"""Task-queue names, shared by starters, workflows and workers."""

OVERDUE_TASK_QUEUE = "overdue-accounts"
# SMS activities have their own queue so its workers can be rate limited to the provider's pace.
SMS_TASK_QUEUE = "overdue-sms"
