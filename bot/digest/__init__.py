"""The weekly digest: schedule math, composition, the scheduler and the `digest` commands.

Nothing here imports Slack: the scheduler is handed the function that posts (DESIGN.md).
"""
