"""Scoring the pipeline against labelled recordings: label files, the evaluation run and
its tables."""
