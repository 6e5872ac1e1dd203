-- id: compute_service_hijacking
-- title: Compute hijacked through container, ML, build or batch services
-- severity: high
-- attack: T1496.001, T1535
-- events: ecs.amazonaws.com:CreateCluster, ecs.amazonaws.com:RegisterTaskDefinition, ecs.amazonaws.com:RunTask,
-- events: ecs.amazonaws.com:StartTask, ecs.amazonaws.com:CreateService,
-- events: sagemaker.amazonaws.com:CreateNotebookInstance, sagemaker.amazonaws.com:CreateNotebookInstanceLifecycleConfig,
-- events: sagemaker.amazonaws.com:CreateTrainingJob, sagemaker.amazonaws.com:CreateProcessingJob,
-- events: glue.amazonaws.com:CreateDevEndpoint, glue.amazonaws.com:CreateJob, glue.amazonaws.com:StartJobRun,
-- events: codebuild.amazonaws.com:CreateProject, codebuild.amazonaws.com:StartBuild,
-- events: amplify.amazonaws.com:CreateApp, amplify.amazonaws.com:CreateBranch, amplify.amazonaws.com:StartJob,
-- events: batch.amazonaws.com:CreateComputeEnvironment, batch.amazonaws.com:CreateJobQueue,
-- events: batch.amazonaws.com:RegisterJobDefinition, batch.amazonaws.com:SubmitJob
-- description: Compute created or started outside EC2 (ECS/Fargate clusters, task definitions, tasks and services;
-- description: SageMaker notebooks, lifecycle configurations, training and processing jobs; Glue dev endpoints and
-- description: jobs; CodeBuild projects and builds; Amplify apps; Batch environments, queues and jobs), reported when:
-- description: the request names a mining tool or pool (high); one principal creates such compute in at least
-- description: min_regions regions within window_minutes (high: miners spread over regions to pass quotas); or a
-- description: principal with at least baseline_hours of history in the dataset uses the service for the first time
-- description: (medium, high with GPU or very large capacity). One hit per principal, region and service. Calls refused
-- description: for lack of permission are denied attempts (one severity lower). AWS services calling on their own
-- description: behalf are left out.
-- description: Request shapes read: the whole request text (mining tools and pools: containerDefinitions[].command,
-- description: buildspec, scripts, environment), resourceRequirements[].type = GPU, instanceType / InstanceType,
-- description: computeResources.instanceTypes[], computeType, workerType.
-- false_positives: Teams adopting a service (first use); multi-region deployment pipelines (use a role per pipeline).
-- references: https://attack.mitre.org/techniques/T1496/001/,
-- references: https://www.elastic.co/guide/en/security/current/aws-ecs-cluster-created-or-task-definition-registered.html,
-- references: https://sysdig.com/blog/ambersquid/
-- param: window_minutes int 60 | Window for the creations of one principal across regions
-- param: min_regions int 2 | Distinct regions with such compute created by one principal within the window
-- param: baseline_hours int 48 | History a principal needs in the dataset before its first use of a service counts as new
-- param: miners text xmrig,stratum+tcp,stratum+ssl,minerd,cpuminer,nbminer,lolminer,t-rex,ethminer,nanominer,gminer,phoenixminer,supportxmr,moneroocean,nanopool,c3pool,2miners,hashvault,nicehash,unmineable | Words of mining tools and pools (case-insensitive substrings of the request)
WITH creates AS (
    SELECT *, tfh_denied(error_code) AS denied, lower(CAST(request_parameters AS VARCHAR)) AS rp_text,
           list_filter(list_concat(coalesce(request_parameters->>'$..instanceType', []),
                                   coalesce(request_parameters->>'$..InstanceType', []),
                                   coalesce(request_parameters->>'$..instanceTypes[*]', []),
                                   coalesce(request_parameters->>'$..computeType', []),
                                   coalesce(request_parameters->>'$..workerType', [])),
                       lambda t: t IS NOT NULL) AS types
    FROM events
    WHERE event_name IN ('CreateCluster', 'RegisterTaskDefinition', 'RunTask', 'StartTask', 'CreateService',
                         'CreateNotebookInstance', 'CreateNotebookInstanceLifecycleConfig', 'CreateTrainingJob',
                         'CreateProcessingJob', 'CreateDevEndpoint', 'CreateJob', 'StartJobRun', 'CreateProject',
                         'StartBuild', 'CreateApp', 'CreateBranch', 'StartJob', 'CreateComputeEnvironment',
                         'CreateJobQueue', 'RegisterJobDefinition', 'SubmitJob')
      AND split_part(event_source, '.', 1) || ':' || event_name IN (
          'ecs:CreateCluster', 'ecs:RegisterTaskDefinition', 'ecs:RunTask', 'ecs:StartTask', 'ecs:CreateService',
          'sagemaker:CreateNotebookInstance', 'sagemaker:CreateNotebookInstanceLifecycleConfig',
          'sagemaker:CreateTrainingJob', 'sagemaker:CreateProcessingJob', 'glue:CreateDevEndpoint', 'glue:CreateJob',
          'glue:StartJobRun', 'codebuild:CreateProject', 'codebuild:StartBuild', 'amplify:CreateApp',
          'amplify:CreateBranch', 'amplify:StartJob', 'batch:CreateComputeEnvironment', 'batch:CreateJobQueue',
          'batch:RegisterJobDefinition', 'batch:SubmitJob')
      AND event_source LIKE '%.amazonaws.com'
      AND (error_code IS NULL OR tfh_denied(error_code))
      AND actor IS NOT NULL
      AND user_identity_invoked_by IS NULL
      AND NOT coalesce(contains(user_identity_arn, ':assumed-role/AWSServiceRole'), false)
      AND NOT coalesce(contains(session_issuer_arn, ':role/aws-service-role/'), false)
),
signals AS (
    SELECT *,
           list_filter(list_transform(string_split($miners, ','), lambda w: trim(lower(w))),
                       lambda w: w <> '' AND contains(rp_text, w)) AS miner_words,
           list_filter(types, lambda t: regexp_matches(lower(t), '^(ml\.)?(p[0-9]|g[0-9]|inf|trn|dl[0-9])')
                                        OR regexp_matches(lower(t), '(gpu|2xlarge|g\.4x|g\.8x|(24|32|48)xlarge|metal)'))
           || CASE WHEN regexp_matches(rp_text, '"type":\s*"gpu"') THEN ['GPU resource requirement'] ELSE [] END AS big
    FROM creates
),
spread AS (  -- distinct regions where the same principal created such compute around each call
    SELECT s.event_id, count(DISTINCT o.aws_region) AS regions
    FROM creates s JOIN creates o
      ON o.actor = s.actor AND o.denied = s.denied
     AND o.event_time BETWEEN s.event_time - to_minutes($window_minutes) AND s.event_time + to_minutes($window_minutes)
    GROUP BY s.event_id
),
history AS (  -- whole-dataset baselines (main.events is never narrowed)
    SELECT actor, min(first_service) AS since,
           map_from_entries(list({'k': event_source, 'v': first_service})) AS service_first
    FROM (SELECT actor, event_source, min(event_time) AS first_service
          FROM main.events
          WHERE actor IN (SELECT actor FROM creates)
          GROUP BY ALL)
    GROUP BY actor
),
judged AS (
    SELECT s.*, p.regions, h.since, h.service_first[s.event_source] AS service_since,
           len(s.miner_words) > 0 AS mining,
           p.regions >= $min_regions AS multi_region,
           s.event_time >= h.since + to_hours($baseline_hours)
               AND s.event_time - h.service_first[s.event_source] <= to_minutes($window_minutes) AS new_to_service
    FROM signals s JOIN spread p USING (event_id) LEFT JOIN history h USING (actor)
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       concat_ws('; ',
           split_part(event_source, '.', 1) || ' ' || event_name
               || CASE WHEN denied THEN ' denied (' || error_code || ')' ELSE '' END,
           CASE WHEN mining THEN 'mining tool or pool named: ' || array_to_string(miner_words, ', ') END,
           CASE WHEN multi_region THEN 'compute created in ' || regions || ' regions within ' || $window_minutes || ' min' END,
           CASE WHEN new_to_service THEN 'first use of ' || split_part(event_source, '.', 1) || ' by a principal active since '
                                         || strftime(since, '%Y-%m-%dT%H:%M:%SZ') END,
           CASE WHEN len(group_big) > 0 THEN 'GPU or large capacity: ' || array_to_string(group_big, ', ') END) AS details,
       CASE WHEN mining OR multi_region OR len(group_big) > 0 THEN 'high' ELSE 'medium' END AS severity,
       denied AS attempt
FROM (  -- the one hit per principal, region and service tells the GPU or large capacity of any call of the group
    SELECT *, list_distinct(flatten(list(big) OVER (PARTITION BY actor, aws_region, event_source, denied))) AS group_big
    FROM judged
    WHERE mining OR multi_region OR new_to_service)
QUALIFY row_number() OVER (PARTITION BY actor, aws_region, event_source, denied ORDER BY event_time, event_id) = 1
ORDER BY event_time
