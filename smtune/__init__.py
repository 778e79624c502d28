"""smtune: operate the SageMaker tuning and deployment workflow, and emulate AWS locally."""
