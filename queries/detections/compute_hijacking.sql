-- id: compute_hijacking
-- title: Compute launched for hijacking (GPU or large instances, new regions)
-- severity: high
-- attack: T1496.001, T1535
-- events: ec2.amazonaws.com:RunInstances, ec2.amazonaws.com:RequestSpotInstances, ec2.amazonaws.com:RequestSpotFleet,
-- events: ec2.amazonaws.com:CreateFleet, batch.amazonaws.com:CreateComputeEnvironment
-- description: Successful launches of GPU, accelerator or very large instance types (families, sizes), or of at
-- description: least min_count instances in one RunInstances call, and RunInstances in a region where the dataset
-- description: shows no earlier activity of the account except by the same principal within the previous hour (an
-- description: unused region). High when a big or GPU launch happens in such a region, else medium. Launches of
-- description: big or GPU types or many instances that fail on a quota or capacity error (attempt_errors:
-- description: VcpuLimitExceeded, InsufficientInstanceCapacity...) are attempts and reported the same way: miners
-- description: often hit the account's limits first. Launches refused for lack of permission (AccessDenied,
-- description: Client.UnauthorizedOperation) or dry runs of big or GPU types or many instances are denied attempts:
-- description: one severity lower and marked attempt (leaked keys are often low-privileged). Launches by AWS
-- description: services (Auto Scaling, EKS...) are left out.
-- description: Request shapes read: instancesSet.items[].instanceType / maxCount (RunInstances),
-- description: launchSpecification.instanceType and instanceCount (RequestSpotInstances), any nested InstanceType,
-- description: instanceTypes[] and TotalTargetCapacity (fleets, Batch compute resources).
-- false_positives: Machine-learning and HPC teams; capacity tests; a dataset that starts with the incident (every
-- false_positives: region then looks new).
-- references: https://attack.mitre.org/techniques/T1496/001/, https://attack.mitre.org/techniques/T1535/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.impact.ec2-launch-unusual-instances/
-- param: families text p,g,inf,trn,dl,vt,f,x,hpc,u | Instance families (letters before the generation digit) reported as GPU/accelerator/huge
-- param: sizes text metal,24xlarge,32xlarge,48xlarge,56xlarge,96xlarge,112xlarge | Instance sizes reported as very large
-- param: min_count int 10 | Instances requested in one call
-- param: attempt_errors text LimitExceeded,InsufficientInstanceCapacity,InsufficientCapacity,MaxSpotInstanceCountExceeded,Unsupported,PendingVerification,QuotaExceeded,DryRunOperation | Error codes of failed launches reported as attempts (comma-separated, case-insensitive substrings)
WITH launches AS (
    SELECT *, request_parameters AS rp,
           list_distinct(list_filter(list_concat(coalesce(request_parameters->>'$..instanceType', []),
                                                 coalesce(request_parameters->>'$..InstanceType', []),
                                                 coalesce(request_parameters->>'$..instanceTypes[*]', [])),
                                     lambda t: t IS NOT NULL)) AS types,
           coalesce(list_max(list_transform(coalesce(request_parameters->>'$.instancesSet.items[*].maxCount', []),
                                            lambda c: TRY_CAST(c AS INTEGER))),
                    TRY_CAST(request_parameters->>'$.instanceCount' AS INTEGER),
                    TRY_CAST(request_parameters->>'$..TotalTargetCapacity' AS INTEGER), 1) AS count
    FROM events
    WHERE event_name IN ('RunInstances', 'RequestSpotInstances', 'RequestSpotFleet', 'CreateFleet',
                         'CreateComputeEnvironment')
      AND event_source IN ('ec2.amazonaws.com', 'batch.amazonaws.com')
      AND (error_code IS NULL OR tfh_denied(error_code)
           OR len(list_filter(string_split(lower($attempt_errors), ','),
                              lambda c: trim(c) <> '' AND contains(lower(error_code), trim(c)))) > 0)
      AND user_identity_invoked_by IS NULL
      AND NOT coalesce(contains(user_identity_arn, ':assumed-role/AWSServiceRole'), false)
      AND NOT coalesce(contains(session_issuer_arn, ':role/aws-service-role/'), false)
),
region_actors AS (  -- whole-dataset baseline: when each principal was first active in each region
    SELECT recipient_account_id, aws_region,
           coalesce(user_identity_arn, user_identity_principal_id, user_identity_invoked_by, '') AS who,
           min(event_time) AS first_time
    FROM main.events
    WHERE event_time IS NOT NULL
      AND (recipient_account_id, aws_region) IN (SELECT recipient_account_id, aws_region FROM launches)
    GROUP BY ALL
),
region_start AS (
    SELECT recipient_account_id, aws_region, min(first_time) AS first_time FROM region_actors GROUP BY ALL
),
others_before AS (   -- the first activity in the region by someone else than the launcher
    SELECT l.event_id, min(r.first_time) AS other_first
    FROM launches l JOIN region_actors r
      ON r.recipient_account_id = l.recipient_account_id AND r.aws_region = l.aws_region
     AND r.first_time < l.event_time
     AND r.who <> coalesce(l.user_identity_arn, l.user_identity_principal_id, l.user_identity_invoked_by, '')
    WHERE l.event_name = 'RunInstances'
    GROUP BY l.event_id
),
judged AS (
    SELECT l.*,
           list_filter(l.types, lambda t:
               list_contains(list_transform(string_split($families, ','), lambda f: trim(f)),
                             regexp_extract(lower(t), '^([a-z]+)', 1))
               OR list_contains(list_transform(string_split($sizes, ','), lambda z: trim(z)),
                                split_part(lower(t), '.', 2))) AS big_types,
           l.event_name = 'RunInstances' AND o.other_first IS NULL
               AND l.event_time - r.first_time <= INTERVAL 1 HOUR AS new_region
    FROM launches l
    LEFT JOIN region_start r USING (recipient_account_id, aws_region)
    LEFT JOIN others_before o USING (event_id)
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       concat_ws('; ',
           CASE WHEN tfh_denied(error_code) THEN 'denied (' || error_code || ')'
                WHEN error_code IS NOT NULL THEN 'attempt failed with ' || error_code END,
           CASE WHEN len(big_types) > 0 THEN 'instance type ' || array_to_string(big_types, ', ') END,
           CASE WHEN count >= $min_count THEN count || ' instances requested' END,
           CASE WHEN new_region THEN 'first activity of the account in ' || aws_region END) AS details,
       CASE WHEN new_region AND (len(big_types) > 0 OR count >= $min_count) THEN 'high' ELSE 'medium' END AS severity,
       tfh_denied(error_code) AS attempt
FROM judged
WHERE len(big_types) > 0 OR count >= $min_count OR (new_region AND error_code IS NULL)
ORDER BY event_time
