-- id: role_trust_backdoor
-- title: Role trust policy opened to an unknown account or to everyone
-- severity: high
-- attack: T1098.003
-- events: iam.amazonaws.com:UpdateAssumeRolePolicy, iam.amazonaws.com:CreateRole
-- description: A role's trust policy (UpdateAssumeRolePolicy, or CreateRole's assumeRolePolicyDocument) that lets any
-- description: principal assume it without a restricting condition (org id, source account...; an ExternalId does not
-- description: count), or that trusts an AWS account outside known_accounts (the dataset's accounts plus
-- description: --known-accounts).
-- description: Request shapes read: policyDocument (UpdateAssumeRolePolicy) or assumeRolePolicyDocument (CreateRole),
-- description: an object or a JSON string; Statement a list or one object; Principal "*", {"AWS": "*"}, an account id
-- description: or ARN, or a list of them; Condition keys; roleName.
-- false_positives: Cross-account roles for vendors and partners (add their accounts with --known-accounts); roles for
-- false_positives: accounts of the same organisation that are not in the dataset.
-- references: https://attack.mitre.org/techniques/T1098/003/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-backdoor-role/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-create-backdoor-role/
WITH candidates AS (
    SELECT *,
           coalesce(request_parameters->'$.policyDocument', request_parameters->'$.assumeRolePolicyDocument') AS doc,
           request_parameters->>'$.roleName' AS role_name
    FROM events
    WHERE event_source = 'iam.amazonaws.com' AND event_name IN ('UpdateAssumeRolePolicy', 'CreateRole')
      AND tfh_ok(error_code, response_elements, event_name)
),
judged AS (
    SELECT *, tfh_policy_public(doc) AS public, tfh_unknown(tfh_policy_accounts(doc)) AS outsiders
    FROM candidates
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       'trust policy of role ' || coalesce(role_name, '?') || ' ' || concat_ws(' and ',
           CASE WHEN public THEN 'allows any principal' END,
           CASE WHEN len(outsiders) > 0 THEN 'trusts unknown account(s) ' || array_to_string(outsiders, ', ') END) AS details
FROM judged
WHERE public OR len(outsiders) > 0
ORDER BY event_time
