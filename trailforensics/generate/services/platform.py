"""CloudWatch, Logs, SQS, SNS, EventBridge, Step Functions, API Gateway, CloudFormation,
Route 53, CloudFront, SES and Bedrock."""

from __future__ import annotations

import time
from typing import Any

from trailforensics.generate.services.base import JSON, Out, Service

_ALARMS = ("5xx-rate", "latency-p99", "cpu-high", "queue-depth")


def _alarm(g: Any) -> str:
    return f"{g.r.pick(g.res.ecs_services)}-{g.r.pick(_ALARMS)}"


def _java(t: int) -> str:
    return time.strftime("%b %d, %Y, %I:%M:%S %p", time.gmtime(t))


def _metric_query(g: Any, region: str) -> JSON:
    dim = {"name": "LoadBalancer", "value": f"app/{g.r.pick(g.res.ecs_services)}/{g.r.hexs(16)}"}
    metric = {
        "namespace": "AWS/ApplicationELB",
        "metricName": "HTTPCode_Target_5XX_Count",
        "dimensions": [dim],
    }
    query = {"id": "m1", "metricStat": {"metric": metric, "period": 60, "stat": "Sum"}, "returnData": True}
    return {
        "metricDataQueries": [query],
        "startTime": _java(g.t - 10800),
        "endTime": _java(g.t),
        "maxDatapoints": 100800,
    }


CW = Service("monitoring", version="1.09", errors=("denied_exc", "throttle"))
CW.read(
    "DescribeAlarms",
    "admin:3 ro:3 dev:1 ci:1 svc:1",
    {"maxRecords": 100, "alarmTypes": ["CompositeAlarm", "MetricAlarm"]},
)
CW.read("GetMetricData", "admin:4 ro:4 dev:1 svc:2", _metric_query)
CW.read("ListMetrics", "admin:1 ro:1", lambda g, rg: {"namespace": g.r.pick(("AWS/EC2", "AWS/Lambda", "AWS/RDS"))})
CW.read(
    "DescribeAlarmHistory",
    "admin:0.5 ro:0.5",
    lambda g, rg: {"alarmName": _alarm(g), "historyItemType": "StateUpdate", "maxRecords": 50},
)
CW.write(
    "PutMetricAlarm",
    "ci:0.3",
    lambda g, rg: {
        "alarmName": _alarm(g),
        "metricName": "CPUUtilization",
        "namespace": "AWS/EC2",
        "statistic": "Average",
        "period": 300,
        "evaluationPeriods": 3,
        "threshold": 80.0,
        "comparisonOperator": "GreaterThanThreshold",
        "tags": [{"key": "team", "value": "platform"}],
    },
)


def _lg(g: Any) -> str:
    return str(g.r.pick(g.res.log_groups))


def _stream(g: Any) -> str:
    return f"{time.strftime('%Y/%m/%d', time.gmtime(g.t))}/[$LATEST]{g.r.hexs(32)}"


_PATTERNS = ("ERROR", '"Task timed out"', '{ $.level = "error" }')
LG = Service("logs", errors=("denied_exc", "notfound_generic", "throttle"))
LG.read(
    "DescribeLogGroups",
    "dev:2 admin:2 ro:2 ci:2 svc:1",
    lambda g, rg: {"logGroupNamePrefix": _lg(g).rsplit("-", 1)[0]} if g.r.chance(0.5) else {"limit": 50},
)
LG.read(
    "DescribeLogStreams",
    "dev:2 admin:2 ro:2",
    lambda g, rg: {"logGroupName": _lg(g), "orderBy": "LastEventTime", "descending": True, "limit": 50},
)
LG.read(
    "FilterLogEvents",
    "dev:3 admin:1 ro:1",
    lambda g, rg: {
        "logGroupName": _lg(g),
        "filterPattern": g.r.pick(_PATTERNS),
        "startTime": (g.t - 3600) * 1000,
        "interleaved": True,
    },
)
LG.read(
    "GetLogEvents",
    "dev:2 admin:1 ro:1",
    lambda g, rg: {"logGroupName": _lg(g), "logStreamName": _stream(g), "startFromHead": False},
)
LG.read(
    "StartQuery",
    "dev:1 admin:0.5",
    out=lambda g, rg, a: (
        {
            "logGroupNames": [_lg(g)],
            "startTime": g.t - 3600,
            "endTime": g.t,
            "queryString": "fields @timestamp, @message | filter @message like /ERROR/ "
            "| sort @timestamp desc | limit 100",
        },
        {"queryId": g.r.uuid()},
        None,
        None,
    ),
)
LG.read("GetQueryResults", "dev:2 admin:1", lambda g, rg: {"queryId": g.r.uuid()})
LG.write(
    "CreateLogStream",
    "lambda:1 app:0.5",
    lambda g, rg: {"logGroupName": _lg(g), "logStreamName": _stream(g)},
    errors=("denied_exc", "already_exists"),
)
LG.write(
    "PutRetentionPolicy",
    "ci:0.3",
    lambda g, rg: {"logGroupName": _lg(g), "retentionInDays": g.r.pick((14, 30, 90, 365))},
)
LG.write(
    "CreateLogGroup",
    "ci:0.1 lambda:0.05",
    lambda g, rg: {"logGroupName": _lg(g), "tags": {"team": "platform"}},
    errors=("denied_exc", "already_exists"),
)


def _queue_url(g: Any, region: str) -> str:
    return f"https://sqs.{region}.amazonaws.com/{g.aid}/{g.r.pick(g.res.queues)}"


def _create_queue(g: Any, region: str, a: Any) -> Out:
    name = f"{g.r.pick(g.res.queues)}-dlq"
    req = {
        "queueName": name,
        "tags": {"team": "platform", "env": g.res.env},
        "attributes": {"MessageRetentionPeriod": "1209600"},
    }
    return req, {"queueUrl": f"https://sqs.{region}.amazonaws.com/{g.aid}/{name}"}, None, None


SQS = Service("sqs", version="1.09", errors=("denied_exc", "notfound_sqs"))
SQS.read("ListQueues", "dev:1 admin:1 ro:1 ci:1", lambda g, rg: {"maxResults": 1000} if g.r.chance(0.5) else None)
SQS.read(
    "GetQueueAttributes",
    "dev:1 admin:1 ci:3 app:0.5 svc:1",
    lambda g, rg: {"queueUrl": _queue_url(g, rg), "attributeNames": ["All"]},
)
SQS.read("GetQueueUrl", "app:1 lambda:0.5", lambda g, rg: {"queueName": g.r.pick(g.res.queues)})
SQS.write(
    "SetQueueAttributes",
    "ci:0.3",
    lambda g, rg: {"queueUrl": _queue_url(g, rg), "attributes": {"VisibilityTimeout": "120"}},
)
SQS.write("CreateQueue", "ci:0.05", out=_create_queue)


def _topic(g: Any, region: str) -> str:
    return f"arn:aws:sns:{region}:{g.aid}:{g.r.pick(g.res.topics)}"


SNS = Service("sns", errors=("denied_exc", "notfound_generic"))
SNS.read("ListTopics", "dev:1 admin:1 ro:1 ci:1")
SNS.read("GetTopicAttributes", "ci:3 admin:0.5 svc:1", lambda g, rg: {"topicArn": _topic(g, rg)})
SNS.read("ListSubscriptionsByTopic", "ci:1 admin:0.5", lambda g, rg: {"topicArn": _topic(g, rg)})
SNS.write(
    "CreateTopic",
    "ci:0.1",
    out=lambda g, rg, a: (
        {"name": g.r.pick(g.res.topics), "tags": [{"key": "team", "value": "platform"}]},
        {"topicArn": _topic(g, rg)},
        None,
        None,
    ),
)
SNS.write(
    "Subscribe",
    "ci:0.1",
    out=lambda g, rg, a: (
        {
            "topicArn": _topic(g, rg),
            "protocol": "sqs",
            "returnSubscriptionArn": True,
            "endpoint": f"arn:aws:sqs:{rg}:{g.aid}:{g.r.pick(g.res.queues)}",
        },
        {"subscriptionArn": f"{_topic(g, rg)}:{g.r.uuid()}"},
        None,
        None,
    ),
)

EV = Service("events", errors=("denied_exc", "notfound_generic"))
EV.read("ListRules", "admin:0.5 ro:0.5 ci:1", {"limit": 100})
EV.read("DescribeRule", "ci:2 admin:0.3", lambda g, rg: {"name": g.r.pick(g.res.rules)})
EV.read("ListTargetsByRule", "ci:2", lambda g, rg: {"rule": g.r.pick(g.res.rules)})
EV.write(
    "PutRule",
    "ci:0.2",
    out=lambda g, rg, a: (
        {"name": g.r.pick(g.res.rules), "scheduleExpression": "rate(5 minutes)", "state": "ENABLED"},
        {"ruleArn": f"arn:aws:events:{rg}:{g.aid}:rule/{g.r.pick(g.res.rules)}"},
        None,
        None,
    ),
)


def _sm(g: Any, region: str) -> str:
    return f"arn:aws:states:{region}:{g.aid}:stateMachine:{g.r.pick(g.res.state_machines)}"


def _start_execution(g: Any, region: str, a: Any) -> Out:
    sm = _sm(g, region)
    req = {"stateMachineArn": sm, "name": g.r.uuid(), "input": "HIDDEN_DUE_TO_SECURITY_REASONS"}
    arn = sm.replace(":stateMachine:", ":execution:") + ":" + g.r.uuid()
    return req, {"executionArn": arn, "startDate": g.java(True)}, None, None


SF = Service("states", errors=("denied_exc", "notfound_generic"))
SF.read("ListStateMachines", "admin:0.5 ro:0.5 dev:0.5")
SF.read("DescribeStateMachine", "ci:1 admin:0.3", lambda g, rg: {"stateMachineArn": _sm(g, rg)})
SF.read(
    "ListExecutions",
    "dev:0.5 admin:0.5",
    lambda g, rg: {"stateMachineArn": _sm(g, rg), "statusFilter": "FAILED", "maxResults": 100},
)
SF.write("StartExecution", "lambda:0.5 svc:0.5", out=_start_execution)

AG = Service("apigateway", errors=("denied_exc", "notfound_generic", "throttle"))
AG.read("GetRestApis", "admin:0.5 ro:0.5 ci:1", {"limit": 500})
AG.read("GetRestApi", "ci:2", lambda g, rg: {"restApiId": g.r.pick(g.res.apis)[0]})
AG.read("GetStages", "ci:1 admin:0.3", lambda g, rg: {"restApiId": g.r.pick(g.res.apis)[0]})
AG.write(
    "CreateDeployment",
    "ci:0.2",
    out=lambda g, rg, a: (
        {"restApiId": g.r.pick(g.res.apis)[0], "stageName": "v1", "description": "ci deploy"},
        {"id": g.r.alnum(6).lower(), "createdDate": g.java(True)},
        None,
        None,
    ),
)


def _stack_arn(g: Any, region: str) -> str:
    return f"arn:aws:cloudformation:{region}:{g.aid}:stack/{g.r.pick(g.res.stacks)}/{g.r.uuid()}"


def _change_set(g: Any, region: str, a: Any) -> Out:
    req = {
        "stackName": g.r.pick(g.res.stacks),
        "changeSetName": f"ci-{g.r.hexs(8)}",
        "changeSetType": "UPDATE",
        "capabilities": ["CAPABILITY_IAM"],
        "tags": [{"key": "pipeline", "value": "github-actions"}],
    }
    resp = {
        "id": f"arn:aws:cloudformation:{region}:{g.aid}:changeSet/ci/{g.r.uuid()}",
        "stackId": _stack_arn(g, region),
    }
    return req, resp, None, None


CFN = Service("cloudformation", errors=("denied_exc", "validation"))
CFN.read(
    "DescribeStacks",
    "dev:1 admin:1 ro:1 ci:3 svc:1",
    lambda g, rg: {"stackName": g.r.pick(g.res.stacks)} if g.r.chance(0.6) else None,
)
CFN.read(
    "ListStacks",
    "admin:1 ro:1 ci:1",
    {"stackStatusFilter": ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"]},
)
CFN.read("DescribeStackEvents", "ci:2 admin:0.5", lambda g, rg: {"stackName": _stack_arn(g, rg)})
CFN.read("GetTemplate", "ci:1", lambda g, rg: {"stackName": g.r.pick(g.res.stacks), "templateStage": "Processed"})
CFN.read("DescribeStackResources", "ci:1 svc:1", lambda g, rg: {"stackName": g.r.pick(g.res.stacks)})
CFN.write("CreateChangeSet", "ci:0.3", out=_change_set)
CFN.write(
    "ExecuteChangeSet",
    "ci:0.3",
    lambda g, rg: {"changeSetName": f"ci-{g.r.hexs(8)}", "stackName": g.r.pick(g.res.stacks)},
)
CFN.read(
    "ValidateTemplate",
    "ci:0.5",
    lambda g, rg: {"templateURL": f"https://{g.r.pick(g.res.buckets)}.s3.amazonaws.com/templates/{g.r.hexs(10)}.yaml"},
)


def _upsert(g: Any, region: str, a: Any) -> Out:
    zone, domain = g.res.zones[0]
    record = {
        "name": f"{g.r.pick(g.res.ecs_services)}.{domain}",
        "type": "CNAME",
        "tTL": 300,
        "resourceRecords": [{"value": f"{g.r.pick(g.res.lbs)[0]}.{region}.elb.amazonaws.com"}],
    }
    change = {
        "id": f"/change/C{g.r.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 20)}",
        "status": "PENDING",
        "submittedAt": g.java(True),
    }
    req = {
        "hostedZoneId": zone,
        "changeBatch": {"changes": [{"action": "UPSERT", "resourceRecordSet": record}]},
    }
    return req, {"changeInfo": change}, None, None


R53 = Service("route53", glob=True, errors=("denied", "notfound_generic", "throttle"), api_version="2013-04-01")
R53.read("ListHostedZones", "admin:1 ro:1 ci:2")
R53.read("GetHostedZone", "ci:2 admin:0.5", lambda g, rg: {"id": g.res.zones[0][0]})
R53.read(
    "ListResourceRecordSets",
    "ci:2 admin:0.5 ro:0.5",
    lambda g, rg: {"hostedZoneId": g.res.zones[0][0], "maxItems": "300"},
)
R53.write("ChangeResourceRecordSets", "ci:0.2", out=_upsert)
R53.read("GetChange", "ci:0.3", lambda g, rg: {"id": f"C{g.r.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 20)}"})


def _invalidation(g: Any, region: str, a: Any) -> Out:
    dist = g.res.distributions[0][0]
    inv = f"I{g.r.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 13)}"
    req = {
        "distributionId": dist,
        "invalidationBatch": {"paths": {"quantity": 1, "items": ["/*"]}, "callerReference": g.r.uuid()},
    }
    resp = {
        "location": f"https://cloudfront.amazonaws.com/2020-05-31/distribution/{dist}/invalidation/{inv}",
        "invalidation": {"status": "InProgress", "createTime": g.java(True)},
    }
    return req, resp, None, None


CDN = Service("cloudfront", glob=True, version="1.09", errors=("denied", "notfound_generic"), api_version="2020_05_31")
CDN.read("ListDistributions", "admin:0.5 ro:0.5 ci:1")
CDN.read("GetDistribution", "ci:2", lambda g, rg: {"id": g.res.distributions[0][0]})
CDN.read("GetDistributionConfig", "ci:1", lambda g, rg: {"id": g.res.distributions[0][0]})
CDN.write("CreateInvalidation", "ci:0.3", out=_invalidation)

SES = Service("ses", errors=("denied_exc", "throttle"))
SES.read("GetSendQuota", "app:0.2 admin:0.1")
SES.read("GetAccount", "admin:0.2")
SES.read("ListIdentities", "admin:0.2 ci:0.3", {"identityType": "Domain", "maxItems": 100})
SES.read("GetIdentityVerificationAttributes", "ci:0.3", lambda g, rg: {"identities": [g.res.zones[0][1]]})

_MODELS = (
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "amazon.titan-embed-text-v2:0",
)
BR = Service("bedrock", version="1.10", errors=("denied_exc", "throttle", "validation"))
_invoke_model = lambda g, rg, a: ({"modelId": g.r.pick(_MODELS)}, None, None, {"inferenceRegion": rg})  # noqa: E731
BR.read("InvokeModel", "lambda:0.8 app:0.3", out=_invoke_model)
BR.read("Converse", "lambda:0.4", out=_invoke_model)
BR.read("ListFoundationModels", "dev:0.3 admin:0.2", {"byOutputModality": "TEXT"})
BR.read("ListGuardrails", "sec:0.2 admin:0.1", {"maxResults": 50})
