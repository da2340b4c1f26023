"""Benchmark data builders and image edits used to evaluate styletrace."""
