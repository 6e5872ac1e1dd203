"""2026-03-09 10:02-10:15Z: alice.martin creates metrolio-s3-trail from the console
(KMS key, alias and key policy, bucket policy, CreateTrail, advanced event selectors,
StartLogging), with the request/response shapes of those APIs."""

from __future__ import annotations

import json
from typing import Any

from tools.sample import org as m
from tools.sample.impact import NONE, T, s3_req
from tools.sample.routines import human
from trailforensics.generate import signin
from trailforensics.generate.engine import Gen
from trailforensics.generate.services import res
from trailforensics.generate.services.storage import s3_additional
from trailforensics.generate.timeutil import java_date

SELECTORS = [
    {
        "name": "s3-write-selector",
        "fieldSelectors": [
            {"field": "eventCategory", "equals": ["Data"]},
            {"field": "resources.type", "equals": ["AWS::S3::Object"]},
            {"field": "readOnly", "equals": ["false"]},
        ],
    }
]
DAY = "2026-03-09"


def _key_policy() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "Key policy created by CloudTrail",
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{m.PROD}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "Allow CloudTrail to encrypt logs",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "kms:GenerateDataKey*",
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"aws:SourceArn": m.S3_TRAIL_ARN},
                        "StringLike": {
                            "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{m.PROD}:trail/*"
                        },
                    },
                },
                {
                    "Sid": "Allow CloudTrail to describe key",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "kms:DescribeKey",
                    "Resource": "*",
                },
            ],
        }
    )


def _bucket_policy() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSCloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": f"arn:aws:s3:::{m.S3_BUCKET}",
                "Condition": {"StringEquals": {"aws:SourceArn": m.S3_TRAIL_ARN}},
            },
            {
                "Sid": "AWSCloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{m.S3_BUCKET}/AWSLogs/{m.PROD}/*",
                "Condition": {
                    "StringEquals": {
                        "s3:x-amz-acl": "bucket-owner-full-control",
                        "aws:SourceArn": m.S3_TRAIL_ARN,
                    }
                },
            },
        ],
    }


def setup_s3_trail(g: Gen) -> dict[str, Any]:
    a = human(g, m.ALICE)
    t = T("10:02:31", DAY)
    actor = signin.console_login(g, a, t, region=m.GLOBAL)
    c = g.call
    key_res = [res("AWS::KMS::Key", m.LOG_KEY_ARN, m.PROD)]
    bucket_res = [res("AWS::S3::Bucket", f"arn:aws:s3:::{m.S3_BUCKET}", m.PROD)]
    alias_arn = f"arn:aws:kms:{m.MAIN}:{m.PROD}:{m.LOG_KEY_ALIAS}"
    desc = "metrolio-s3-trail log file encryption"
    meta = {
        "aWSAccountId": m.PROD,
        "keyId": m.LOG_KEY_ID,
        "arn": m.LOG_KEY_ARN,
        "creationDate": java_date(T("10:05:12", DAY)),
        "enabled": True,
        "description": desc,
        "keyUsage": "ENCRYPT_DECRYPT",
        "keyState": "Enabled",
        "origin": "AWS_KMS",
        "keyManager": "CUSTOMER",
        "customerMasterKeySpec": "SYMMETRIC_DEFAULT",
        "keySpec": "SYMMETRIC_DEFAULT",
        "encryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
        "multiRegion": False,
    }
    out: dict[str, Any] = {"console_login": t, "actor": actor}
    out["CreateKey"] = c(
        actor,
        "kms:CreateKey",
        T("10:05:12", DAY),
        m.MAIN,
        resp={"keyMetadata": meta},
        res=key_res,
        add=None,
        req={
            "description": desc,
            "keyUsage": "ENCRYPT_DECRYPT",
            "keySpec": "SYMMETRIC_DEFAULT",
            "origin": "AWS_KMS",
            "bypassPolicyLockoutSafetyCheck": False,
            "multiRegion": False,
            "tags": [{"tagKey": "purpose", "tagValue": "cloudtrail"}],
        },
    )
    out["CreateAlias"] = c(
        actor,
        "kms:CreateAlias",
        T("10:05:44", DAY),
        m.MAIN,
        req={"aliasName": m.LOG_KEY_ALIAS, "targetKeyId": m.LOG_KEY_ID},
        resp=None,
        add=None,
        res=[res("AWS::KMS::Key", alias_arn, m.PROD), *key_res],
    )
    out["PutKeyPolicy"] = c(
        actor,
        "kms:PutKeyPolicy",
        T("10:07:03", DAY),
        m.MAIN,
        resp=None,
        res=key_res,
        add=None,
        req={
            "keyId": m.LOG_KEY_ARN,
            "policyName": "default",
            "policy": _key_policy(),
            "bypassPolicyLockoutSafetyCheck": False,
        },
    )
    out["GetBucketAcl"] = c(
        actor,
        "s3:GetBucketAcl",
        T("10:09:11", DAY),
        m.MAIN,
        req=s3_req(m.S3_BUCKET, m.MAIN, acl=""),
        resp=None,
        res=bucket_res,
        add=s3_additional(g, 0, 0),
    )
    out["PutBucketPolicy"] = c(
        actor,
        "s3:PutBucketPolicy",
        T("10:09:36", DAY),
        m.MAIN,
        resp=None,
        res=bucket_res,
        req=s3_req(m.S3_BUCKET, m.MAIN, bucketPolicy=_bucket_policy(), policy=""),
        add=s3_additional(g, 1302, 0),
    )
    out["CreateTrail"] = c(
        actor,
        "cloudtrail:CreateTrail",
        T("10:12:48", DAY),
        m.MAIN,
        res=None,
        add=None,
        req={
            "name": m.S3_TRAIL,
            "s3BucketName": m.S3_BUCKET,
            "includeGlobalServiceEvents": False,
            "isMultiRegionTrail": False,
            "enableLogFileValidation": True,
            "kmsKeyId": alias_arn,
            "isOrganizationTrail": False,
            "tagsList": [],
        },
        resp={
            "name": m.S3_TRAIL,
            "s3BucketName": m.S3_BUCKET,
            "includeGlobalServiceEvents": False,
            "isMultiRegionTrail": False,
            "trailARN": m.S3_TRAIL_ARN,
            "logFileValidationEnabled": True,
            "kmsKeyId": m.LOG_KEY_ARN,
            "isOrganizationTrail": False,
        },
    )
    out["PutEventSelectors"] = c(
        actor,
        "cloudtrail:PutEventSelectors",
        T("10:14:05", DAY),
        m.MAIN,
        res=None,
        add=None,
        req={"trailName": m.S3_TRAIL, "advancedEventSelectors": SELECTORS},
        resp={"trailARN": m.S3_TRAIL_ARN, "advancedEventSelectors": SELECTORS},
    )
    out["StartLogging"] = c(
        actor, "cloudtrail:StartLogging", T("10:14:41", DAY), m.MAIN, req={"name": m.S3_TRAIL}, **NONE
    )
    c(actor, "cloudtrail:GetTrailStatus", T("10:14:58", DAY), m.MAIN, req={"name": m.S3_TRAIL_ARN}, **NONE)
    c(
        actor,
        "cloudtrail:GetEventSelectors",
        T("10:15:03", DAY),
        m.MAIN,
        req={"trailName": m.S3_TRAIL_ARN},
        **NONE,
    )
    return out
