-- id: role_chaining
-- title: Role chaining from a new identity or along a new path
-- severity: high
-- attack: T1078.004, T1550.001
-- events: sts.amazonaws.com:AssumeRole, sts.amazonaws.com:AssumeRoleWithSAML,
-- events: sts.amazonaws.com:AssumeRoleWithWebIdentity, sts.amazonaws.com:GetFederationToken,
-- events: sts.amazonaws.com:GetSessionToken, iam.amazonaws.com:CreateUser, iam.amazonaws.com:CreateAccessKey
-- description: A role session assuming another role (a chain of at least two roles), followed back through the
-- description: logged STS calls (the responseElements.credentials key of each call) to the identity it started
-- description: from. High when that origin is new or flagged: an IAM user or access key created in the dataset
-- description: (CreateUser, CreateAccessKey) or a long-term key used from an address it had not used in its first
-- description: min_history_hours; medium when the hop (calling role to assumed role) is first seen in the dataset
-- description: although the calling role has at least min_history_hours of history. Routine chains (a path seen
-- description: before, from an established identity) and AWS services are not reported. The details give the
-- description: whole chain with its keys, so that the session keys can be traced.
-- description: Request shapes read: roleArn, roleSessionName; responseElements credentials.accessKeyId of the STS
-- description: calls, user.arn of CreateUser and accessKey.accessKeyId of CreateAccessKey.
-- false_positives: Pipelines and administrators that hop through a deployment or hub role into a role they never
-- false_positives: used before in the dataset; identity migrations that create users and roles together.
-- references: https://attack.mitre.org/techniques/T1078/004/,
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-role-chaining
-- param: min_history_hours int 12 | History a calling role (or an origin key) needs before a hop or address is new
WITH issued AS (   -- every logged credential issue: the new key and who asked for it
    SELECT event_time, event_id, event_name, actor, user_identity_type, user_identity_access_key_id AS caller_key,
           session_issuer_arn, source_ip_address, user_identity_invoked_by, user_agent, aws_region,
           recipient_account_id,
           response_elements->>'$.credentials.accessKeyId' AS new_key, request_parameters->>'$.roleArn' AS role_arn,
           request_parameters->>'$.roleSessionName' AS session_name
    FROM events
    WHERE event_source = 'sts.amazonaws.com'
      AND event_name IN ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity', 'GetFederationToken',
                         'GetSessionToken')
      AND error_code IS NULL
),
hops AS (   -- AssumeRole made with a role session's credentials
    SELECT *, coalesce(new_key, '?') AS leaf_key,
           regexp_extract(role_arn, '[^/]+$') || '/' || coalesce(session_name, '?') AS target
    FROM issued
    WHERE event_name = 'AssumeRole' AND user_identity_type = 'AssumedRole'
      AND caller_key IS NOT NULL AND user_identity_invoked_by IS NULL
      AND NOT coalesce(contains(session_issuer_arn, ':role/aws-service-role/'), false)
),
walk AS (   -- from each hop up to the origin of its credentials (depth-limited)
    SELECT * FROM (
        WITH RECURSIVE up(hop_id, depth, key, who, kind, used_at, used_from) AS (
            SELECT event_id, 1, caller_key, actor, user_identity_type, event_time, source_ip_address FROM hops
            UNION ALL
            SELECT u.hop_id, u.depth + 1, i.caller_key, i.actor, i.user_identity_type, i.event_time,
                   i.source_ip_address
            FROM up u JOIN issued i ON i.new_key = u.key AND i.event_time <= u.used_at
            WHERE u.kind IN ('AssumedRole', 'FederatedUser') AND u.depth < 10
        )
        SELECT * FROM up
    )
),
origins AS (
    SELECT hop_id, max(depth) AS levels,
           arg_max(key, depth) AS origin_key, arg_max(who, depth) AS origin, arg_max(kind, depth) AS origin_kind,
           arg_max(used_at, depth) AS origin_time, arg_max(used_from, depth) AS origin_ip,
           string_agg(regexp_extract(who, '[^:/]+/[^/]+$') || ' (' || coalesce(key, '?') || ')', ' -> '
                      ORDER BY depth DESC) AS path,
           count(*) FILTER (WHERE kind = 'AssumedRole') AS roles
    FROM walk
    GROUP BY hop_id
),
created AS (   -- users and access keys created in the dataset
    SELECT event_time AS created_at, response_elements->>'$.user.arn' AS user_arn,
           response_elements->>'$.accessKey.accessKeyId' AS key
    FROM events
    WHERE event_source = 'iam.amazonaws.com' AND event_name IN ('CreateUser', 'CreateAccessKey')
      AND error_code IS NULL
),
origin_keys AS (   -- whole-dataset baseline of the long-term origin keys: first use, first use per address
    SELECT user_identity_access_key_id AS key, source_ip_address AS ip, min(event_time) AS first_time
    FROM main.events
    WHERE user_identity_access_key_id IN (SELECT origin_key FROM origins WHERE origin_kind <> 'AssumedRole')
    GROUP BY ALL
),
role_history AS (   -- when each calling role was first active
    SELECT session_issuer_arn, min(event_time) AS role_first
    FROM main.events
    WHERE session_issuer_arn IN (SELECT session_issuer_arn FROM hops)
    GROUP BY ALL
),
paths AS (   -- when each hop (calling role -> assumed role) was first made
    SELECT session_issuer_arn, role_arn, min(event_time) AS path_first
    FROM hops GROUP BY ALL
),
judged AS (
    SELECT h.*, o.*, r.role_first, p.path_first,
           (SELECT min(c.created_at) FROM created c WHERE c.user_arn = o.origin AND c.created_at <= h.event_time)
               AS user_created,
           (SELECT min(c.created_at) FROM created c WHERE c.key = o.origin_key AND c.created_at <= h.event_time)
               AS key_created,
           (SELECT min(k.first_time) FROM origin_keys k WHERE k.key = o.origin_key) AS key_first,
           (SELECT min(k.first_time) FROM origin_keys k WHERE k.key = o.origin_key AND k.ip = o.origin_ip) AS ip_first
    FROM hops h
    JOIN origins o ON o.hop_id = h.event_id
    LEFT JOIN role_history r ON r.session_issuer_arn = h.session_issuer_arn
    LEFT JOIN paths p ON p.session_issuer_arn = h.session_issuer_arn AND p.role_arn IS NOT DISTINCT FROM h.role_arn
),
flagged AS (
    SELECT *,
           user_created IS NOT NULL OR key_created IS NOT NULL
           OR coalesce(ip_first >= key_first + to_hours($min_history_hours), false) AS new_origin,
           path_first = event_time AND role_first <= event_time - to_hours($min_history_hours) AS new_path
    FROM judged
)
SELECT event_time, actor, caller_key AS access_key, source_ip_address AS source_ip, user_agent, aws_region AS region,
       recipient_account_id AS account, event_name, event_id,
       'role chain of ' || (roles + 1) || ' roles: ' || path || ' -> ' || coalesce(target, role_arn, '?')
       || ' (' || leaf_key || ')'
       || CASE WHEN origin_kind = 'AssumedRole' THEN '; origin credentials not issued in the dataset' ELSE '' END
       || CASE WHEN user_created IS NOT NULL THEN '; origin user created in the dataset at '
               || strftime(user_created, '%Y-%m-%dT%H:%M:%SZ') ELSE '' END
       || CASE WHEN key_created IS NOT NULL THEN '; origin key created in the dataset at '
               || strftime(key_created, '%Y-%m-%dT%H:%M:%SZ') ELSE '' END
       || CASE WHEN coalesce(ip_first >= key_first + to_hours($min_history_hours), false)
               THEN '; origin key used from a new address ' || origin_ip ELSE '' END
       || CASE WHEN new_path THEN '; first time ' || regexp_extract(session_issuer_arn, '[^/]+$')
               || ' assumes this role' ELSE '' END AS details,
       CASE WHEN new_origin THEN 'high' ELSE 'medium' END AS severity
FROM flagged
WHERE new_origin OR new_path
ORDER BY event_time
