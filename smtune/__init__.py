"""smtune: operate the SageMaker tuning and deployment workflow, and emulate AWS locally."""

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it)
