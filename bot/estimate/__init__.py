"""The estimate solver and the commands built on it.

- solver.py: the relations between marketing metrics as data, solved for whatever follows (pure).
- inputs.py: what people type (KEY=VALUE, platform=NAME), validated with readable errors.
- commands.py: `estimate`, filling rates from a platform's published figures, with ranges.
- plans.py: `compare KEY=VALUE ...`, the paid and organic routes side by side.
"""
