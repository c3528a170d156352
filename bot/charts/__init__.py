"""Charts of answers: a data model built from a Reply's own `data` (model.py), drawn with
matplotlib's object API on the Agg canvas (render.py), imported only when a chart is made."""
