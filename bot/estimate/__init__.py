"""The estimate solver and the commands built on it.

- solver.py: the relations between marketing metrics as data, solved for whatever follows (pure).
- inputs.py: what people type (KEY=VALUE, platform=NAME), validated with readable errors.
- commands.py: `estimate` itself, from the request to the reply.
- fill.py: filling missing rates from a platform's published figures, solved with ranges.
- checks.py: the validation messages (a result that cannot be, too little to go on).
- reply.py: the estimate's reply, paid and organic apart, with notices, footnotes and data.
- plans.py: `compare KEY=VALUE ...`, the paid and organic routes side by side.
"""
