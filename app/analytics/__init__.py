"""The statistics of SPEC §13 and §15: per-row standard errors, pooled estimates, trends with
their scatter counted, annual percent changes with joinpoints, comparisons.

Plain functions over the row arrays loaded once (`rows.RowTable`); every formula is written once,
in `stats` (the joinpoint model's in `joinpoint`). Nothing here imports Flask or a job engine:
the Task classes (app/task.py) call in.
"""
