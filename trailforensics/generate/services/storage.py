"""S3 (bucket-level management events and object-level data events) and DynamoDB."""

from __future__ import annotations

import time
from typing import Any

from trailforensics.generate.services.base import JSON, Out, Service, res

EXTS = ("json", "csv", "parquet", "gz", "pdf", "png")
S3_WRITES = frozenset(
    {
        "PutObject",
        "DeleteObject",
        "CopyObject",
        "DeleteObjects",
        "CompleteMultipartUpload",
        "CreateMultipartUpload",
        "UploadPart",
        "PutObjectAcl",
        "PutObjectTagging",
        "RestoreObject",
    }
)


def object_key(g: Any) -> str:
    r = g.r
    day = time.strftime("%Y/%m/%d", time.gmtime(g.t))
    prefix = r.pick(("exports", "uploads", "reports", "incoming", "archive", "thumbnails"))
    return f"{prefix}/{day}/{r.pick(g.res.ecs_services)}-{r.randrange(100000):05d}.{r.pick(EXTS)}"


def s3_additional(g: Any, bytes_in: int, bytes_out: int, cipher: str = "TLS_AES_128_GCM_SHA256") -> JSON:
    return {
        "SignatureVersion": "SigV4",
        "CipherSuite": cipher,
        "bytesTransferredIn": bytes_in,
        "AuthenticationMethod": "AuthHeader",
        "x-amz-id-2": g.r.amz_id_2(),
        "bytesTransferredOut": bytes_out,
    }


def s3_object_event(
    g: Any, region: str, op: str, bucket: str, key: str, owner: str | None = None, size: int | None = None
) -> Out:
    """requestParameters/responseElements/resources/additionalEventData of an object-level data event."""
    r = g.r
    req: JSON = {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com", "key": key}
    resp: JSON | None = None
    size = size if size is not None else r.randint(800, 4_000_000)
    bin_, bout = 0, 0
    if op == "GetObject":
        bout = size
    elif op == "PutObject":
        bin_ = size
        sse = "aws:kms" if r.chance(0.3) else "AES256"
        req["x-amz-server-side-encryption"] = sse
        resp = {"x-amz-server-side-encryption": sse, "x-amz-version-id": r.alnum(32)}
    elif op == "DeleteObject":
        req["x-id"] = "DeleteObject"
    elif op == "CopyObject":
        req["x-amz-copy-source"] = f"{bucket}/{key.replace('exports/', 'staging/')}"
        req["x-id"] = "CopyObject"
        resp = {"x-amz-server-side-encryption": "AES256"}
    resources = [
        res("AWS::S3::Object", f"arn:aws:s3:::{bucket}/{key}", None),
        res("AWS::S3::Bucket", f"arn:aws:s3:::{bucket}", owner or g.aid),
    ]
    return req, resp, resources, s3_additional(g, bin_, bout)


def _data_bucket(g: Any) -> str:
    return str(g.r.pick(g.res.data_buckets or g.res.buckets))


def _obj(op: str) -> Any:
    def build(g: Any, region: str, a: Any) -> Out:
        return s3_object_event(g, region, op, _data_bucket(g), object_key(g))

    return build


def _list_objects(g: Any, region: str, a: Any) -> Out:
    b = _data_bucket(g)
    req = {
        "bucketName": b,
        "Host": f"{b}.s3.{region}.amazonaws.com",
        "list-type": "2",
        "prefix": g.r.pick(("exports/", "uploads/", "reports/", "")),
        "encoding-type": "url",
    }
    return req, None, [res("AWS::S3::Bucket", f"arn:aws:s3:::{b}", g.aid)], s3_additional(g, 0, 0)


def _bucket_op(param: str | None) -> Any:
    def build(g: Any, region: str, a: Any) -> Out:
        b = g.r.pick(g.res.buckets)
        req: JSON = {"bucketName": b, "Host": f"{b}.s3.{region}.amazonaws.com"}
        if param:
            req[param] = ""
        return req, None, [res("AWS::S3::Bucket", f"arn:aws:s3:::{b}", g.aid)], s3_additional(g, 0, 0)

    return build


def _put_tagging(g: Any, region: str, a: Any) -> Out:
    b = g.r.pick(g.res.buckets)
    tags = [{"Key": "team", "Value": g.r.pick(("platform", "data"))}, {"Key": "env", "Value": g.res.env}]
    req = {
        "bucketName": b,
        "Host": f"{b}.s3.{region}.amazonaws.com",
        "tagging": "",
        "Tagging": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "TagSet": {"Tag": tags}},
    }
    return req, None, [res("AWS::S3::Bucket", f"arn:aws:s3:::{b}", g.aid)], s3_additional(g, 0, 0)


S3 = Service("s3", version="1.10", errors=("denied_s3", "notfound_s3"), rid="s3")
for _op, _ro, _w in (
    ("GetObject", True, "app:8 lambda:5 data:6 report:6 svc:2 ci:1"),
    ("PutObject", False, "app:5 lambda:4 data:2 ci:2 svc:1"),
    ("HeadObject", True, "app:2 lambda:1 ci:1"),
    ("DeleteObject", False, "app:0.6 lambda:0.4 svc:0.3"),
    ("CopyObject", False, "app:0.3 lambda:0.3 data:0.3"),
):
    _errs = S3.errors if _ro else ("denied_s3",)
    S3.add(_op, _ro, _w, out=_obj(_op), data=True, err=0.4, vpce=True, errors=_errs)
S3.read("ListObjects", "app:1 data:2 report:1 dev:1", out=_list_objects, data=True, err=0.4, vpce=True)
S3.read(
    "ListBuckets",
    "dev:3 admin:3 ro:3 data:1 ci:1 sec:1",
    out=lambda g, rg, a: ({"Host": "s3.amazonaws.com"}, None, None, s3_additional(g, 0, 0)),
    glob=True,
    errors=("denied_s3",),
)
for _op, _param, _w in (
    ("GetBucketLocation", "location", "dev:1 ci:2 app:0.5 svc:1"),
    ("GetBucketPolicy", "policy", "admin:1 ro:1 ci:2 svc:2 sec:1"),
    ("GetBucketAcl", "acl", "admin:1 ro:1 ci:1 svc:2 sec:1"),
    ("GetBucketVersioning", "versioning", "admin:1 ci:2 svc:1"),
    ("GetBucketEncryption", "encryption", "admin:0.5 ci:2 svc:2 sec:1"),
    ("GetBucketPublicAccessBlock", "publicAccessBlock", "admin:0.5 ro:0.5 svc:2 sec:1"),
    ("GetBucketTagging", "tagging", "ci:2 svc:1"),
    ("GetBucketLogging", "logging", "ci:1 svc:1 sec:0.5"),
    ("GetBucketLifecycle", "lifecycle", "ci:1 svc:0.5"),
):
    S3.read(_op, _w, out=_bucket_op(_param))
S3.write("PutBucketTagging", "ci:0.3", out=_put_tagging)
S3.write("PutBucketPolicy", "", out=_bucket_op("policy"))


def _tbl(g: Any) -> str:
    return str(g.r.pick(g.res.tables))


def _tbl_res(g: Any, region: str, t: str) -> list[JSON]:
    return [res("AWS::DynamoDB::Table", f"arn:aws:dynamodb:{region}:{g.aid}:table/{t}", g.aid)]


def _item(op: str) -> Any:
    def build(g: Any, region: str, a: Any) -> Out:
        t = _tbl(g)
        req: JSON = {"tableName": t}
        if op in ("GetItem", "DeleteItem", "UpdateItem"):
            req["key"] = {"pk": f"{t.split('-')[0]}#{g.r.randrange(10**6)}"}
        if op == "GetItem":
            req["consistentRead"] = False
        elif op == "Query":
            req.update({"keyConditionExpression": "pk = :pk", "limit": 50, "scanIndexForward": False})
        elif op == "PutItem":
            req["item"] = {"pk": "HIDDEN_DUE_TO_SECURITY_REASONS"}
        elif op == "UpdateItem":
            req["updateExpression"] = "SET #s = :s"
        return req, None, _tbl_res(g, region, t), None

    return build


def _table_op(g: Any, region: str, a: Any) -> Out:
    t = _tbl(g)
    return {"tableName": t}, None, _tbl_res(g, region, t), None


DDB = Service("dynamodb", version="1.09", errors=("denied", "notfound_generic", "throttle"), api_version="2012-08-10")
for _op, _ro, _w in (
    ("GetItem", True, "app:4 lambda:6"),
    ("Query", True, "app:3 lambda:4"),
    ("PutItem", False, "app:2 lambda:3"),
    ("UpdateItem", False, "app:1 lambda:2"),
    ("DeleteItem", False, "lambda:0.3"),
):
    DDB.add(_op, _ro, _w, out=_item(_op), data=True, err=0.4, vpce=True)
DDB.read("ListTables", "dev:1 admin:1 ro:1 ci:1 data:1", lambda g, rg: {"limit": 100} if g.r.chance(0.5) else None)
DDB.read("DescribeTable", "dev:1 admin:1 ro:1 ci:3 data:1 app:0.3 svc:1", out=_table_op)
DDB.read("DescribeContinuousBackups", "ci:1 svc:1", out=_table_op)
DDB.read("DescribeTimeToLive", "ci:1", out=_table_op)
