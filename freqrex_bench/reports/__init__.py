"""The HTML robustness report and JSON summary of a run."""
