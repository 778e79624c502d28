"""The fault-injection suite uses the workflow suite's fixtures: the emulator and stacks applied
into it with Terraform. It runs in a process of its own, beside the Terraform suite."""

from __future__ import annotations

from tests.workflow.conftest import clients, deploy, emulator, manifest

__all__ = ["clients", "deploy", "emulator", "manifest"]
