"""Auto Scaling, Elastic Load Balancing, Lambda, ECS, ECR and EKS."""

from __future__ import annotations

from typing import Any

from trailforensics.generate.services.base import JSON, Out, Service, res

AS = Service("autoscaling")
AS.read(
    "DescribeAutoScalingGroups",
    "admin:1 ro:1 ci:2 svc:2",
    lambda g, rg: {"autoScalingGroupNames": [g.r.pick(g.res.asgs)]} if g.r.chance(0.5) else {"maxRecords": 100},
)
AS.read(
    "DescribeScalingActivities",
    "admin:0.5 ro:0.5",
    lambda g, rg: {"autoScalingGroupName": g.r.pick(g.res.asgs), "maxRecords": 20},
)
AS.write(
    "SetDesiredCapacity",
    "svc:0.5 admin:0.1",
    lambda g, rg: {
        "autoScalingGroupName": g.r.pick(g.res.asgs),
        "desiredCapacity": g.r.randint(2, 12),
        "honorCooldown": False,
    },
)
AS.write(
    "UpdateAutoScalingGroup",
    "ci:0.4",
    lambda g, rg: {"autoScalingGroupName": g.r.pick(g.res.asgs), "minSize": 2, "maxSize": 12},
)


def _lb_arn(g: Any, region: str) -> str:
    name, suffix = g.r.pick(g.res.lbs)
    return f"arn:aws:elasticloadbalancing:{region}:{g.aid}:loadbalancer/app/{name}/{suffix}"


def _tg_arn(g: Any, region: str) -> str:
    name, suffix = g.r.pick(g.res.lbs)
    return f"arn:aws:elasticloadbalancing:{region}:{g.aid}:targetgroup/{name[:24]}-tg/{suffix}"


ELB = Service("elasticloadbalancing", version="1.09")
ELB.read(
    "DescribeLoadBalancers",
    "admin:1 ro:1 ci:2 svc:1",
    lambda g, rg: {"pageSize": 400} if g.r.chance(0.5) else {"loadBalancerArns": [_lb_arn(g, rg)]},
)
ELB.read("DescribeTargetGroups", "admin:1 ci:2 svc:1", lambda g, rg: {"loadBalancerArn": _lb_arn(g, rg)})
ELB.read("DescribeTargetHealth", "admin:1 ro:1 svc:2", lambda g, rg: {"targetGroupArn": _tg_arn(g, rg)})
ELB.write(
    "RegisterTargets",
    "svc:1",
    lambda g, rg: {"targetGroupArn": _tg_arn(g, rg), "targets": [{"id": g.r.ec2_id("i")}]},
)
ELB.write(
    "DeregisterTargets",
    "svc:0.6",
    lambda g, rg: {"targetGroupArn": _tg_arn(g, rg), "targets": [{"id": g.r.ec2_id("i")}]},
)


def _fn(g: Any) -> str:
    fns = g.acct.functions
    return str(g.r.pick(fns).name) if fns else f"{g.r.pick(g.res.ecs_services)}-handler"


def _fn_arn(g: Any, region: str, name: str | None = None) -> str:
    return f"arn:aws:lambda:{region}:{g.aid}:function:{name or _fn(g)}"


def _fn_conf(g: Any, region: str, name: str) -> JSON:
    r = g.r
    return {
        "functionName": name,
        "functionArn": _fn_arn(g, region, name),
        "runtime": "python3.12",
        "role": f"arn:aws:iam::{g.aid}:role/{name}-role",
        "handler": "app.handler",
        "codeSize": r.randint(2000, 9000000),
        "description": "",
        "timeout": 30,
        "memorySize": 512,
        "lastModified": g.iso_ms(),
        "codeSha256": r.amz_id_2()[:44],
        "version": "$LATEST",
        "tracingConfig": {"mode": "PassThrough"},
        "revisionId": r.uuid(),
        "state": "Active",
        "lastUpdateStatus": "InProgress",
        "packageType": "Zip",
        "architectures": ["arm64"],
        "ephemeralStorage": {"size": 512},
    }


def _update_code(g: Any, region: str, a: Any) -> Out:
    name = _fn(g)
    req = {
        "functionName": name,
        "publish": False,
        "dryRun": False,
        "s3Bucket": g.r.pick(g.res.buckets),
        "s3Key": f"builds/{name}/{g.r.hexs(12)}.zip",
    }
    return req, _fn_conf(g, region, name), None, None


def _update_conf(g: Any, region: str, a: Any) -> Out:
    name = _fn(g)
    return {"functionName": name, "environment": {}, "timeout": 60}, _fn_conf(g, region, name), None, None


def _create_fn(g: Any, region: str, a: Any) -> Out:
    name = f"{g.r.pick(g.res.ecs_services)}-{g.r.pick(('sync', 'cron', 'hook'))}"
    req = {
        "functionName": name,
        "runtime": "python3.12",
        "role": f"arn:aws:iam::{g.aid}:role/{name}-role",
        "handler": "app.handler",
        "code": {},
        "timeout": 30,
        "memorySize": 256,
        "tags": {"team": g.r.pick(("platform", "data", "web")), "managed-by": "terraform"},
    }
    return req, _fn_conf(g, region, name), None, None


def _add_permission(g: Any, region: str, a: Any) -> Out:
    req = {
        "functionName": _fn(g),
        "statementId": f"apigw-{g.r.hexs(8)}",
        "action": "lambda:InvokeFunction",
        "principal": "apigateway.amazonaws.com",
    }
    return req, {"statement": '{"Sid":"apigw","Effect":"Allow"}'}, None, None


def _invoke(g: Any, region: str, a: Any) -> Out:
    arn = _fn_arn(g, region)
    req = {"functionName": arn, "invocationType": g.r.pick(("RequestResponse", "Event"))}
    return req, None, [res("AWS::Lambda::Function", arn, g.aid)], {"functionVersion": f"{arn}:$LATEST"}


LM = Service("lambda", errors=("denied_exc", "notfound_lambda", "throttle_lambda"))
LM.read(
    "ListFunctions20150331",
    "dev:3 admin:2 ro:2 ci:2 svc:1 sec:1",
    lambda g, rg: None if g.r.chance(0.6) else {"maxItems": 50},
)
LM.read("GetFunction20150331v2", "dev:2 admin:1 ro:1 ci:3", lambda g, rg: {"functionName": _fn(g)})
LM.read("GetFunctionConfiguration20150331v2", "dev:1 ci:2 svc:1", lambda g, rg: {"functionName": _fn(g)})
LM.read("ListEventSourceMappings20150331", "ci:1 dev:0.5", lambda g, rg: {"functionName": _fn(g)})
LM.read("GetPolicy20150331v2", "ci:1 sec:0.5", lambda g, rg: {"functionName": _fn(g)})
LM.write("UpdateFunctionCode20150331v2", "ci:1 dev:0.4", out=_update_code)
LM.write("UpdateFunctionConfiguration20150331v2", "ci:0.4 dev:0.2", out=_update_conf)
LM.write("CreateFunction20150331", "ci:0.05", out=_create_fn)
LM.write("AddPermission20150331v2", "ci:0.1", out=_add_permission)
LM.write("Invoke", "app:1 lambda:1", out=_invoke, data=True, err=0.5)


def _cluster(g: Any) -> str:
    return str(g.r.pick(g.res.ecs_clusters))


def _task_def(g: Any, region: str) -> str:
    return f"arn:aws:ecs:{region}:{g.aid}:task-definition/{g.r.pick(g.res.ecs_services)}:{g.r.randint(3, 140)}"


def _register_td(g: Any, region: str, a: Any) -> Out:
    req = {
        "family": g.r.pick(g.res.ecs_services),
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "512",
        "memory": "1024",
        "tags": [{"key": "managed-by", "value": "ci"}],
    }
    return (
        req,
        {"taskDefinition": {"taskDefinitionArn": _task_def(g, region), "status": "ACTIVE"}},
        None,
        None,
    )


def _update_service(g: Any, region: str, a: Any) -> Out:
    svc = g.r.pick(g.res.ecs_services)
    req = {
        "cluster": _cluster(g),
        "service": svc,
        "taskDefinition": _task_def(g, region),
        "forceNewDeployment": False,
    }
    resp = {"service": {"serviceName": svc, "status": "ACTIVE", "desiredCount": g.r.randint(2, 8)}}
    return req, resp, None, None


def _run_task(g: Any, region: str, a: Any) -> Out:
    c = _cluster(g)
    req = {"cluster": c, "taskDefinition": _task_def(g, region), "count": 1, "launchType": "FARGATE"}
    task = {"taskArn": f"arn:aws:ecs:{region}:{g.aid}:task/{c}/{g.r.hexs(32)}", "lastStatus": "PROVISIONING"}
    return req, {"tasks": [task], "failures": []}, None, None


ECS = Service("ecs", errors=("denied_exc", "notfound_generic", "throttle"))
ECS.read("ListClusters", "dev:1 admin:1 ro:1 ci:1")
ECS.read(
    "DescribeClusters",
    "admin:1 ro:1 ci:1",
    lambda g, rg: {"clusters": [_cluster(g)], "include": ["SETTINGS", "STATISTICS"]},
)
ECS.read("ListServices", "dev:1 admin:1 ro:1 ci:2", lambda g, rg: {"cluster": _cluster(g), "maxResults": 100})
ECS.read(
    "DescribeServices",
    "dev:1 admin:1 ro:1 ci:3",
    lambda g, rg: {"cluster": _cluster(g), "services": [g.r.pick(g.res.ecs_services)]},
)
ECS.read(
    "ListTasks",
    "dev:1 admin:1 ro:1",
    lambda g, rg: {
        "cluster": _cluster(g),
        "serviceName": g.r.pick(g.res.ecs_services),
        "desiredStatus": "RUNNING",
    },
)
ECS.read("DescribeTasks", "dev:1 admin:1 svc:1", lambda g, rg: {"cluster": _cluster(g), "tasks": [g.r.hexs(32)]})
ECS.read("DescribeTaskDefinition", "ci:2", lambda g, rg: {"taskDefinition": g.r.pick(g.res.ecs_services)})
ECS.write("RegisterTaskDefinition", "ci:0.6", out=_register_td)
ECS.write("UpdateService", "ci:0.6 admin:0.1", out=_update_service)
ECS.write("RunTask", "svc:0.5 ci:0.2", out=_run_task)


def _repo(g: Any) -> str:
    return str(g.r.pick(g.res.repos))


def _put_image(g: Any, region: str, a: Any) -> Out:
    repo = _repo(g)
    req = {"repositoryName": repo, "imageTag": f"sha-{g.r.hexs(7)}", "imageManifest": "{...}"}
    image = {
        "registryId": g.aid,
        "repositoryName": repo,
        "imageId": {"imageDigest": f"sha256:{g.r.hexs(64)}"},
    }
    return req, {"image": image}, None, None


ECR = Service("ecr", errors=("denied_exc", "notfound_generic"))
ECR.read("GetAuthorizationToken", "ci:3 app:0.5 dev:1")
ECR.read(
    "DescribeRepositories",
    "ci:1 dev:1 admin:1 ro:1",
    lambda g, rg: {"repositoryNames": [_repo(g)]} if g.r.chance(0.5) else None,
)
ECR.read(
    "DescribeImages",
    "ci:1 dev:1 ro:0.5",
    lambda g, rg: {"repositoryName": _repo(g), "filter": {"tagStatus": "TAGGED"}, "maxResults": 100},
)
ECR.read(
    "BatchGetImage",
    "app:1 ci:1 svc:1",
    lambda g, rg: {
        "repositoryName": _repo(g),
        "imageIds": [{"imageTag": f"sha-{g.r.hexs(7)}"}],
        "acceptedMediaTypes": ["application/vnd.docker.distribution.manifest.v2+json"],
    },
)
ECR.read(
    "GetDownloadUrlForLayer",
    "app:1 svc:1",
    lambda g, rg: {"repositoryName": _repo(g), "layerDigest": f"sha256:{g.r.hexs(64)}"},
)
ECR.read(
    "BatchCheckLayerAvailability",
    "ci:1",
    lambda g, rg: {"repositoryName": _repo(g), "layerDigests": [f"sha256:{g.r.hexs(64)}"]},
)
ECR.write("PutImage", "ci:0.8", out=_put_image)

EKS = Service("eks", errors=("denied_exc", "notfound_generic"))
EKS.read("ListClusters", "dev:0.5 admin:0.5 ci:0.5", {"maxResults": 100})
EKS.read("DescribeCluster", "dev:1 admin:0.5 ci:1 app:0.1", lambda g, rg: {"name": g.r.pick(g.res.eks_clusters)})
EKS.read("ListNodegroups", "ci:0.5 admin:0.3", lambda g, rg: {"name": g.r.pick(g.res.eks_clusters)})
EKS.read(
    "DescribeNodegroup",
    "ci:0.5",
    lambda g, rg: {"name": g.r.pick(g.res.eks_clusters), "nodegroupName": "default"},
)
