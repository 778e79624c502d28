"""Lambda code of the SageMaker tuning and deployment workflow.

One package, deployed as one zip, with several handlers in `tuning_workflow.handlers`. The JSON
Schemas of the input documents live in `schemas/` and are read by `tuning_workflow.validation`.
"""

__version__ = "0.1.0"
