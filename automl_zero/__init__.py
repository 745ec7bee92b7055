"""AutoML-Zero."""
