-- id: new_user_with_credentials
-- title: New IAM user given credentials or permissions right away
-- severity: high
-- attack: T1136.003, T1098.001
-- events: iam.amazonaws.com:CreateUser, iam.amazonaws.com:CreateAccessKey, iam.amazonaws.com:CreateLoginProfile,
-- events: iam.amazonaws.com:AttachUserPolicy, iam.amazonaws.com:PutUserPolicy, iam.amazonaws.com:AddUserToGroup
-- description: CreateUser followed, within window_minutes and by the same principal, by an access key, a console
-- description: password, a policy or a group membership for that new user. The hit is the first follow-up call; the
-- description: details list every follow-up in the window.
-- description: Request shapes read: userName of CreateUser (or responseElements user.userName) and of the follow-up
-- description: call; policyArn (AttachUserPolicy), groupName (AddUserToGroup).
-- false_positives: Onboarding scripts and identity tooling that create users with keys (prefer roles or SSO); the
-- false_positives: console's create-user wizard.
-- references: https://attack.mitre.org/techniques/T1136/003/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-create-admin-user/
-- param: window_minutes int 60 | Time allowed between CreateUser and the follow-up calls
WITH created AS (
    SELECT actor AS creator, event_time AS created_at,
           coalesce(request_parameters->>'$.userName', response_elements->>'$.user.userName') AS new_user
    FROM events
    WHERE event_source = 'iam.amazonaws.com' AND event_name = 'CreateUser'
      AND tfh_ok(error_code, response_elements, event_name)
      AND coalesce(request_parameters->>'$.userName', response_elements->>'$.user.userName') IS NOT NULL
),
follow AS (
    SELECT e.*, e.request_parameters->>'$.userName' AS new_user,
           e.event_name || coalesce('(' || regexp_extract(e.request_parameters->>'$.policyArn', '[^/]+$') || ')',
                                    '(' || (e.request_parameters->>'$.groupName') || ')', '') AS step
    FROM events e
    WHERE e.event_source = 'iam.amazonaws.com'
      AND e.event_name IN ('CreateAccessKey', 'CreateLoginProfile', 'AttachUserPolicy', 'PutUserPolicy', 'AddUserToGroup')
      AND tfh_ok(e.error_code, e.response_elements, e.event_name)
),
joined AS (
    SELECT f.*, c.created_at
    FROM follow f JOIN created c
      ON f.actor = c.creator AND f.new_user = c.new_user
     AND f.event_time >= c.created_at AND f.event_time <= c.created_at + to_minutes($window_minutes)
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       'CreateUser ' || new_user || ' then ' || array_to_string(steps, ', ') || ' within '
       || CAST(ceil(epoch(last_time - created_at) / 60) AS INTEGER) || ' min' AS details
FROM (
    SELECT *, list(step) OVER (PARTITION BY new_user, created_at ORDER BY event_time, event_id
                               ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS steps,
           max(event_time) OVER (PARTITION BY new_user, created_at) AS last_time
    FROM joined
)
QUALIFY row_number() OVER (PARTITION BY new_user, created_at ORDER BY event_time, event_id) = 1
ORDER BY event_time
