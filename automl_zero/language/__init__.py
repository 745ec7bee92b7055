"""The language of algorithms: the op table, instructions, component functions,
their text and JSON forms, generators of hand-designed and random algorithms,
and dead-code analysis. Pure Python over plain values; no executor."""
