-- id: ec2_key_pair_unusual
-- title: EC2 key pair imported or created in a new region or by a new principal
-- severity: high
-- attack: T1098.004, T1535
-- events: ec2.amazonaws.com:ImportKeyPair, ec2.amazonaws.com:CreateKeyPair, iam.amazonaws.com:CreateUser,
-- events: iam.amazonaws.com:CreateRole, iam.amazonaws.com:CreateAccessKey
-- description: A successful ImportKeyPair or CreateKeyPair (SSH access to instances launched with it: the step
-- description: before a miner or a backdoor instance) in a region the account had not used during the first
-- description: min_history_hours of its history in the dataset, or by a principal (a role for role sessions) that
-- description: is new: created in the dataset (CreateUser, CreateRole, or its access key by CreateAccessKey) or
-- description: first seen less than min_history_hours before, in an account with that much history. High when
-- description: both, medium when one.
-- description: Request shapes read: keyName (details only); responseElements user.arn, role.arn and
-- description: accessKey.accessKeyId of CreateUser, CreateRole and CreateAccessKey.
-- false_positives: Engineers starting work in a new region; new automation roles that prepare instances.
-- references: https://attack.mitre.org/techniques/T1098/004/, https://attack.mitre.org/techniques/T1535/,
-- references: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-key-pairs.html
-- param: min_history_hours int 24 | Activity of the account in the dataset before a region or principal counts as new
WITH pairs AS (
    SELECT *, tfh_principal(user_identity_type, user_identity_arn, session_issuer_arn, actor) AS principal
    FROM events
    WHERE event_source = 'ec2.amazonaws.com' AND event_name IN ('ImportKeyPair', 'CreateKeyPair')
      AND tfh_ok(error_code, response_elements, event_name)
      AND user_identity_invoked_by IS NULL
),
created AS (   -- identities and access keys created in the dataset
    SELECT event_time AS created_at,
           coalesce(response_elements->>'$.user.arn', response_elements->>'$.role.arn') AS arn,
           response_elements->>'$.accessKey.accessKeyId' AS key
    FROM events
    WHERE event_source = 'iam.amazonaws.com' AND event_name IN ('CreateUser', 'CreateRole', 'CreateAccessKey')
      AND error_code IS NULL
),
accounts AS (   -- whole-dataset baselines: when each account, region and principal was first active
    SELECT recipient_account_id, min(event_time) AS account_first
    FROM main.events WHERE recipient_account_id IN (SELECT recipient_account_id FROM pairs)
    GROUP BY ALL
),
regions AS (
    SELECT recipient_account_id, aws_region, min(event_time) AS region_first
    FROM main.events
    WHERE recipient_account_id IN (SELECT recipient_account_id FROM pairs)
      AND aws_region IN (SELECT aws_region FROM pairs)
      AND coalesce(event_category, '') <> 'Insight'
    GROUP BY ALL
),
principals AS (
    SELECT tfh_principal(user_identity_type, user_identity_arn, session_issuer_arn, actor) AS principal,
           recipient_account_id, min(event_time) AS principal_first
    FROM main.events
    WHERE actor IN (SELECT actor FROM pairs) OR session_issuer_arn IN (SELECT principal FROM pairs)
    GROUP BY ALL
),
judged AS (
    SELECT p.*, a.account_first, r.region_first, pr.principal_first,
           r.region_first >= a.account_first + to_hours($min_history_hours) AS new_region,
           (SELECT min(c.created_at) FROM created c
             WHERE (c.arn = p.principal OR c.key = p.user_identity_access_key_id) AND c.created_at <= p.event_time)
               AS created_at
    FROM pairs p
    JOIN accounts a USING (recipient_account_id)
    LEFT JOIN regions r USING (recipient_account_id, aws_region)
    LEFT JOIN principals pr ON pr.principal = p.principal AND pr.recipient_account_id = p.recipient_account_id
),
flagged AS (
    SELECT *, created_at IS NOT NULL
              OR coalesce(principal_first > event_time - to_hours($min_history_hours)
                          AND account_first <= event_time - to_hours($min_history_hours), false) AS new_principal
    FROM judged
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       'key pair ' || coalesce(request_parameters->>'$.keyName', '?')
       || CASE event_name WHEN 'ImportKeyPair' THEN ' imported' ELSE ' created' END
       || concat_ws('', CASE WHEN new_region THEN '; the account was first active in ' || aws_region || ' at '
                             || strftime(region_first, '%Y-%m-%dT%H:%M:%SZ') || ', '
                             || CAST(date_diff('hour', account_first, region_first) AS VARCHAR)
                             || ' h into its history' END,
                    CASE WHEN created_at IS NOT NULL THEN '; by ' || principal || ', created in the dataset at '
                             || strftime(created_at, '%Y-%m-%dT%H:%M:%SZ')
                         WHEN new_principal THEN '; by ' || principal || ', first seen at '
                             || strftime(principal_first, '%Y-%m-%dT%H:%M:%SZ') END) AS details,
       CASE WHEN new_region AND new_principal THEN 'high' ELSE 'medium' END AS severity
FROM flagged
WHERE new_region OR new_principal
ORDER BY event_time
