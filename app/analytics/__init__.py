"""The statistics of SPEC §13: per-row standard errors, pooled estimates, trends, comparisons.

Plain functions over the row arrays loaded once (`rows.RowTable`); every formula is written once,
in `stats`. Nothing here imports Flask or a job engine: the Task classes (app/task.py) call in.
"""
