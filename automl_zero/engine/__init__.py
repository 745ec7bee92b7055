"""The search engine: the evaluation pipeline (evaluator, FEC, train budget),
regularized evolution and its mutator (the packed production engine and the
readable object reference), and the island that runs them. No file I/O."""
