"""The SageMaker model registry (model package groups and versions) as the API reference
describes it, over moto's own objects, and its EventBridge events.

moto 5.2.5 gaps fixed here:

- DeleteModelPackageGroup and DeleteModelPackage are missing (HTTP 500)
  (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DeleteModelPackageGroup.html,
  https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DeleteModelPackage.html). A group
  that still holds versions is refused with ConflictException (the one error the reference
  lists for the call; the message is the emulator's).
- CreateModelPackageGroup of a name in use replaced the group silently; SageMaker refuses it.
- DescribeModelPackageGroup lacked the required `CreatedBy` and did not accept the group's ARN,
  which the request pattern allows
  (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeModelPackageGroup.html).
- Group ARNs carry the name lowercased, as every SageMaker ARN and moto's own model package
  ARNs (`model-package/<group lowercased>/<version>`) do.
- A versioned model package created without ModelApprovalStatus had none; SageMaker sets
  PendingManualApproval
  (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateModelPackage.html).
- Version numbers were "versions in the group + 1", so a number came back after a deletion;
  they now only grow.
- UpdateModelPackage reset every field it was not given (ModelApprovalStatus,
  ApprovalDescription, CustomerMetadataProperties) to nothing; it changes only the given ones,
  and CustomerMetadataProperties are added to (or overwrite) the existing keys
  (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateModelPackage.html).
- ListTags/AddTags on a model package version ARN failed with HTTP 500.

Events: SageMaker sends "SageMaker Model Package State Change" to the default event bus when a
model package version is created and when its approval status changes
(https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html);
so does the emulator, through moto's PutEvents path (rules' patterns, every target type).
"""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

from moto.sagemaker.exceptions import ConflictException, ValidationError
from moto.sagemaker.utils import arn_formatter

LOG = logging.getLogger(__name__)

MODEL_PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"
EVENT_SOURCE = "aws.sagemaker"
DEFAULT_APPROVAL_STATUS = "PendingManualApproval"
_NEXT_VERSION = "_smtune_next_version"


def group_name_of(identifier: str) -> str:
    """A group's name from its name or ARN (`...:model-package-group/<name>`)."""
    if identifier.startswith("arn:"):
        return identifier.rsplit("/", 1)[-1]
    return identifier


def find_group(backend: Any, identifier: str) -> Any | None:
    """The group a name or ARN names; an ARN's lowercased name finds any casing."""
    name = group_name_of(identifier)
    group = backend.model_package_groups.get(name)
    if group is None and identifier.startswith("arn:"):
        group = next(
            (g for key, g in backend.model_package_groups.items() if key.lower() == name.lower()),
            None,
        )
    return group


def group_arn(backend: Any, name: str) -> str:
    return arn_formatter(
        "model-package-group", name.lower(), backend.account_id, backend.region_name
    )


def _missing_group(backend: Any, identifier: str) -> ValidationError:
    return ValidationError(
        message=f"ModelPackageGroup {group_arn(backend, group_name_of(identifier))} does not exist."
    )


def refuse_existing_group(backend: Any, name: str) -> None:
    existing = backend.model_package_groups.get(name)
    if existing is not None:
        raise ValidationError(message=f"Model Package Group already exists: {existing.arn}")


def after_group_created(backend: Any, name: str) -> str:
    group = backend.model_package_groups[name]
    group.arn = group_arn(backend, name)
    setattr(group, _NEXT_VERSION, 1)
    return str(group.arn)


def describe_group(backend: Any, identifier: str) -> dict[str, Any]:
    group = find_group(backend, identifier)
    if group is None:
        raise _missing_group(backend, identifier)
    described = group.gen_response_object()
    described.pop("Tags", None)
    described["CreatedBy"] = dict(group.created_by)
    return dict(described)


def versions_of(backend: Any, group_name: str) -> list[Any]:
    return [
        package
        for package in backend.model_packages.values()
        if package.model_package_group_name == group_name
        and package.model_package_version is not None
    ]


def delete_group(backend: Any, identifier: str) -> None:
    group = find_group(backend, identifier)
    if group is None:
        raise _missing_group(backend, identifier)
    if versions_of(backend, group.model_package_group_name):
        raise ConflictException(
            f"Model Package Group {group.arn} contains model packages; delete them before the "
            "group."
        )
    del backend.model_package_groups[group.model_package_group_name]


def reserve_version(backend: Any, group_identifier: str) -> tuple[str, int]:
    """The group's name and the version number the next CreateModelPackage gets."""
    group = find_group(backend, group_identifier)
    if group is None:
        raise ValidationError(message="Model Package Group does not exist.")
    versions = [
        p.model_package_version for p in versions_of(backend, group.model_package_group_name)
    ]
    following = max([getattr(group, _NEXT_VERSION, 1), *(v + 1 for v in versions)])
    setattr(group, _NEXT_VERSION, following + 1)
    return group.model_package_group_name, following


def renumber(backend: Any, package: Any, version: int) -> None:
    """Give a just-created version the number reserved for it (moto counted the group)."""
    if package.model_package_version == version:
        return
    old_arn = package.arn
    new_arn = arn_formatter(
        "model-package",
        f"{package.model_package_name.lower()}/{version}",
        backend.account_id,
        backend.region_name,
    )
    package.model_package_version = version
    package.arn = new_arn
    for statuses in package.model_package_status_details.values():
        for status in statuses:
            status["Name"] = new_arn
    backend.model_packages.pop(old_arn, None)
    backend.model_packages[new_arn] = package
    backend.model_package_name_mapping.pop(old_arn, None)
    backend.model_package_name_mapping[new_arn] = new_arn
    backend.model_package_name_mapping[package.model_package_name] = new_arn


def find_package(backend: Any, identifier: str) -> Any:
    mapped = backend.model_package_name_mapping.get(identifier, identifier)
    package = backend.model_packages.get(mapped) or backend.model_packages.get(identifier.lower())
    if package is None:
        raise ValidationError(message=f"Model package {identifier} not found")
    return package


def update_package(
    backend: Any,
    arn: str,
    approval_status: str | None,
    approval_description: str | None,
    metadata: dict[str, str] | None,
    metadata_to_remove: list[str] | None,
    additional_inference_specifications: list[Any] | None,
) -> tuple[Any, bool]:
    """UpdateModelPackage: only the given fields change. Returns (package, status changed)."""
    package = find_package(backend, arn)
    changed = False
    if approval_status is not None:
        previous = package.model_approval_status
        package.set_model_approval_status(approval_status)
        changed = previous != approval_status
    if approval_description is not None:
        package.approval_description = approval_description
    if metadata:
        package.customer_metadata_properties = {
            **(package.customer_metadata_properties or {}),
            **metadata,
        }
    if metadata_to_remove and package.customer_metadata_properties:
        for key in metadata_to_remove:
            package.customer_metadata_properties.pop(key, None)
    if additional_inference_specifications:
        package.add_additional_inference_specifications(additional_inference_specifications)
    package.modifications_done()
    return package, changed


def delete_package(backend: Any, identifier: str) -> None:
    """DeleteModelPackage by name or ARN."""
    package = find_package(backend, identifier)
    backend.model_packages.pop(package.arn, None)
    for key, value in list(backend.model_package_name_mapping.items()):
        if value == package.arn:
            del backend.model_package_name_mapping[key]


def is_model_package_arn(arn: str) -> bool:
    return arn.split(":", 5)[-1].startswith("model-package/")


def is_group_arn(arn: str) -> bool:
    return arn.split(":", 5)[-1].startswith("model-package-group/")


# Events --------------------------------------------------------------------------------------


def _epoch_millis(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return int(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {k: _epoch_millis(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_epoch_millis(v) for v in value]
    return value


def state_change_detail(package: Any) -> dict[str, Any]:
    """The event's detail: the version as DescribeModelPackage shows it, times in epoch
    milliseconds, as in SageMaker's example event."""
    detail = _epoch_millis(package.gen_response_object())
    return dict(detail)


def emit_state_change(backend: Any, package: Any) -> None:
    """Put "SageMaker Model Package State Change" for a version on the default event bus."""
    from moto.events.models import events_backends

    if package.model_package_version is None:
        return
    events = events_backends[backend.account_id][backend.region_name]
    entry = {
        "Source": EVENT_SOURCE,
        "DetailType": MODEL_PACKAGE_STATE_CHANGE,
        "Detail": json.dumps(state_change_detail(package)),
        "Resources": [package.arn],
    }
    try:
        events.put_events([entry])
    except Exception as error:
        # SageMaker's call succeeds whatever the rules' targets do; moto cannot deliver to
        # some target types (NotImplementedError), which must not fail the SageMaker call.
        LOG.warning(
            "Could not deliver %s for %s: %r", MODEL_PACKAGE_STATE_CHANGE, package.arn, error
        )
