"""The package version, in one place (no imports, so any module may read it)."""

__version__ = "0.1.0"
