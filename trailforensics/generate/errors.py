"""errorCode / errorMessage pairs in the wording each service uses."""

from __future__ import annotations

import re
from typing import Any

from trailforensics.generate.rng import Rng

_PREFIX = {"monitoring": "cloudwatch", "elasticloadbalancing": "elasticloadbalancing"}
_VERSION_SUFFIX = re.compile(r"20\d{6}(v\d)?$")
_URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def action_of(source: str, name: str) -> str:
    svc = source.split(".", 1)[0]
    return f"{_PREFIX.get(svc, svc)}:{_VERSION_SUFFIX.sub('', name)}"


def encoded_message(rng: Rng) -> str:
    return rng.chars(_URLSAFE, rng.randint(520, 760))


def not_authorized(arn: str, action: str, resource: str, reason: str = "no identity-based policy allows") -> str:
    return (
        f"User: {arn} is not authorized to perform: {action} on resource: {resource} "
        f"because {reason} the {action} action"
    )


def make_error(
    kind: str, source: str, name: str, read_only: bool, arn: str, resource: str, rng: Rng
) -> tuple[str, str | None]:
    """(errorCode, errorMessage) for an error of `kind` on API `source`/`name` called by `arn`."""
    action = action_of(source, name)
    if kind == "denied":
        return "AccessDenied", not_authorized(arn, action, resource)
    if kind == "denied_exc":
        return "AccessDeniedException", not_authorized(arn, action, resource)
    if kind == "denied_s3":
        return "AccessDenied", "Access Denied"
    if kind == "denied_org":
        return "AccessDeniedException", "You don't have permissions to access this resource."
    if kind == "ec2denied":
        msg = (
            f"You are not authorized to perform this operation. User: {arn} is not authorized to perform: "
            f"{action} because no identity-based policy allows the {action} action"
        )
        if not read_only:
            msg = (
                "You are not authorized to perform this operation. User: "
                f"{arn} is not authorized to perform: {action} on resource: {resource} because no "
                f"identity-based policy allows the {action} action. Encoded authorization failure message: "
                f"{encoded_message(rng)}"
            )
        return "Client.UnauthorizedOperation", msg
    if kind == "throttle":
        return "ThrottlingException", "Rate exceeded"
    if kind == "throttle_ec2":
        return "Client.RequestLimitExceeded", "Request limit exceeded."
    if kind == "throttle_iam":
        return "Throttling", "Rate exceeded"
    if kind == "throttle_lambda":
        return "TooManyRequestsException", "Rate exceeded"
    if kind == "notfound_iam":
        what = "role" if "Role" in name else "user" if "User" in name or "Access" in name or "MFA" in name else "policy"
        return "NoSuchEntityException", f"The {what} with name {resource.rsplit('/', 1)[-1]} cannot be found."
    if kind == "notfound_lambda":
        return "ResourceNotFoundException", f"Function not found: {resource}"
    if kind == "notfound_s3":
        return "NoSuchKey", "The specified key does not exist."
    if kind == "notfound_rds":
        return "DBInstanceNotFoundFault", f"DBInstance {resource.rsplit(':', 1)[-1]} not found."
    if kind == "notfound_kms":
        return "NotFoundException", f"Key '{resource}' does not exist"
    if kind == "notfound_sm":
        return "ResourceNotFoundException", "Secrets Manager can't find the specified secret."
    if kind == "notfound_ssm":
        return "ParameterNotFound", None
    if kind == "notfound_glue":
        return "EntityNotFoundException", f"Table {resource.rsplit('/', 1)[-1]} not found."
    if kind == "notfound_sqs":
        return "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist."
    if kind == "notfound_trail":
        return "TrailNotFoundException", f"Unknown trail: {resource} for the user: {arn.split(':')[4]}"
    if kind == "validation":
        return (
            "ValidationException",
            "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
        )
    if kind == "already_exists":
        return "ResourceAlreadyExistsException", "The specified log stream already exists"
    return "ResourceNotFoundException", "Requested resource not found"


def resource_hint(source: str, name: str, region: str, account: str, req: Any) -> str:
    """A plausible resource ARN for an error message."""
    svc = source.split(".", 1)[0]
    if isinstance(req, dict):
        for k in (
            "roleName",
            "userName",
            "functionName",
            "secretId",
            "name",
            "tableName",
            "bucketName",
            "keyId",
        ):
            v = req.get(k)
            if isinstance(v, str):
                if v.startswith("arn:"):
                    return v
                if svc == "iam":
                    kind = "role" if k == "roleName" else "user"
                    return f"arn:aws:iam::{account}:{kind}/{v}"
                if svc == "s3":
                    return f"arn:aws:s3:::{v}"
                return f"arn:aws:{svc}:{region}:{account}:{k.replace('Name', '').replace('Id', '')}/{v}"
    if svc == "ec2":
        return f"arn:aws:ec2:{region}:{account}:instance/*"
    if svc == "iam":
        return f"arn:aws:iam::{account}:user/*"
    return "*"
