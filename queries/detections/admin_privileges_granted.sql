-- id: admin_privileges_granted
-- title: Administrator privileges granted
-- severity: high
-- attack: T1098.003
-- events: iam.amazonaws.com:AttachUserPolicy, iam.amazonaws.com:AttachRolePolicy, iam.amazonaws.com:AttachGroupPolicy,
-- events: iam.amazonaws.com:PutUserPolicy, iam.amazonaws.com:PutRolePolicy, iam.amazonaws.com:PutGroupPolicy,
-- events: iam.amazonaws.com:CreatePolicy, iam.amazonaws.com:CreatePolicyVersion, iam.amazonaws.com:SetDefaultPolicyVersion,
-- events: iam.amazonaws.com:AddUserToGroup
-- description: Successful grants of administrator-level rights: an admin managed policy (admin_policies) attached to
-- description: a user, role or group; an inline policy or a new default policy version allowing * (or iam:*) on *;
-- description: attaching or re-defaulting a customer policy the dataset shows was created with such a document; a user
-- description: added to a group that was given admin rights in the dataset or whose name contains admin. The same
-- description: grants refused for lack of permission are denied attempts (one severity lower): a leaked key trying
-- description: to raise its own rights.
-- description: Request shapes read: policyArn, policyDocument (an object or a JSON string; Statement a list or one
-- description: object; Action / Resource a list or one string), setAsDefault, versionId, userName / roleName /
-- description: groupName; responseElements policy.arn and policyVersion.versionId.
-- false_positives: Break-glass roles and platform administrators being set up; account vending pipelines.
-- references: https://attack.mitre.org/techniques/T1098/003/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.privilege-escalation.iam-update-user-login-profile/
-- param: admin_policies text AdministratorAccess,IAMFullAccess,PowerUserAccess | Managed policy names treated as admin
WITH iam AS (
    SELECT *, request_parameters AS rp, tfh_doc(request_parameters->'$.policyDocument') AS doc,
           tfh_denied(error_code) AS denied
    FROM events
    WHERE event_source = 'iam.amazonaws.com'
      AND event_name IN ('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy', 'PutUserPolicy', 'PutRolePolicy',
                         'PutGroupPolicy', 'CreatePolicy', 'CreatePolicyVersion', 'SetDefaultPolicyVersion',
                         'AddUserToGroup')
      AND (tfh_ok(error_code, response_elements, event_name) OR tfh_denied(error_code))
),
flagged AS (
    SELECT *,
           len(list_filter(tfh_statements(doc), lambda s:
               coalesce((s->>'$.Effect') = 'Allow', false)
               AND list_has_any(list_concat(coalesce(s->>'$.Action[*]', []), [s->>'$.Action']), ['*', '*:*', 'iam:*'])
               AND list_has_any(list_concat(coalesce(s->>'$.Resource[*]', []), [s->>'$.Resource']), ['*']))) > 0
               AS admin_doc,
           list_contains(list_transform(string_split($admin_policies, ','), lambda p: trim(p)),
                         regexp_extract(rp->>'$.policyArn', '[^/]+$')) AS admin_managed
    FROM iam
),
admin_custom AS (   -- customer policies created (or re-versioned) with an admin document
    SELECT coalesce(response_elements->>'$.policy.arn', rp->>'$.policyArn') AS policy_arn,
           response_elements->>'$.policyVersion.versionId' AS version_id
    FROM flagged
    WHERE event_name IN ('CreatePolicy', 'CreatePolicyVersion') AND admin_doc AND NOT denied
),
admin_groups AS (
    SELECT DISTINCT rp->>'$.groupName' AS group_name
    FROM flagged
    WHERE event_name IN ('AttachGroupPolicy', 'PutGroupPolicy')
      AND (admin_managed OR admin_doc OR (rp->>'$.policyArn') IN (SELECT policy_arn FROM admin_custom))
      AND NOT denied
),
judged AS (
    SELECT *,
           coalesce(rp->>'$.userName', rp->>'$.roleName', rp->>'$.groupName') AS principal,
           CASE
               WHEN event_name IN ('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy')
                    AND (admin_managed OR (rp->>'$.policyArn') IN (SELECT policy_arn FROM admin_custom)) THEN
                   regexp_extract(rp->>'$.policyArn', '[^/]+$') || ' attached to '
                   || lower(replace(replace(event_name, 'Attach', ''), 'Policy', ''))
               WHEN event_name IN ('PutUserPolicy', 'PutRolePolicy', 'PutGroupPolicy') AND admin_doc THEN
                   'inline policy ' || coalesce(rp->>'$.policyName', '?') || ' allowing * on * put on '
                   || lower(replace(replace(event_name, 'Put', ''), 'Policy', ''))
               WHEN event_name = 'CreatePolicyVersion' AND admin_doc AND (rp->>'$.setAsDefault') = 'true' THEN
                   'new default version allowing * on * for policy ' || coalesce(rp->>'$.policyArn', '?')
               WHEN event_name = 'SetDefaultPolicyVersion'
                    AND EXISTS (SELECT 1 FROM admin_custom a WHERE a.policy_arn = rp->>'$.policyArn'
                                AND a.version_id = rp->>'$.versionId') THEN
                   'policy ' || coalesce(rp->>'$.policyArn', '?') || ' defaulted to admin version '
                   || coalesce(rp->>'$.versionId', '?')
               WHEN event_name = 'AddUserToGroup'
                    AND ((rp->>'$.groupName') IN (SELECT group_name FROM admin_groups)
                         OR contains(lower(rp->>'$.groupName'), 'admin')) THEN
                   'user ' || coalesce(rp->>'$.userName', '?') || ' added to admin group ' || (rp->>'$.groupName')
           END AS what
    FROM flagged
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       what || CASE WHEN event_name IN ('AddUserToGroup', 'CreatePolicyVersion', 'SetDefaultPolicyVersion') THEN ''
                    ELSE ' ' || coalesce(principal, '?') END
       || CASE WHEN denied THEN ' (denied: ' || error_code || ')' ELSE '' END AS details,
       denied AS attempt
FROM judged
WHERE what IS NOT NULL
ORDER BY event_time
