-- id: assume_role_by_source
-- title: Role assumptions by source principal and account
-- description: AssumeRole, AssumeRoleWithSAML and AssumeRoleWithWebIdentity grouped by who assumed which role,
-- description: from which account, with counts and time range; cross-account assumptions are flagged.
-- param: since timestamp null | Earliest event time
-- param: until timestamp null | Latest event time (exclusive)
-- param: role glob * | Role ARN (glob)
-- columns: source, source_account, role_arn, role_account, cross_account, assumptions, failures, session_names, source_ips, first_seen, last_seen
SELECT coalesce(actor, user_identity_principal_id, user_identity_identity_provider) AS source,
       user_identity_account_id AS source_account,
       json_extract_string(request_parameters, '$.roleArn') AS role_arn,
       split_part(json_extract_string(request_parameters, '$.roleArn'), ':', 5) AS role_account,
       coalesce(user_identity_account_id <> split_part(json_extract_string(request_parameters, '$.roleArn'), ':', 5),
                false) AS cross_account,
       count(*) AS assumptions,
       count(error_code) AS failures,
       list_sort(list(DISTINCT json_extract_string(request_parameters, '$.roleSessionName')))[1:10] AS session_names,
       list_sort(list(DISTINCT source_ip_address))[1:10] AS source_ips,
       min(event_time) AS first_seen, max(event_time) AS last_seen
FROM events
WHERE event_source = 'sts.amazonaws.com'
  AND event_name IN ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity')
  AND coalesce(json_extract_string(request_parameters, '$.roleArn'), '') GLOB $role
  AND ($since IS NULL OR event_time >= $since)
  AND ($until IS NULL OR event_time < $until)
GROUP BY ALL
ORDER BY assumptions DESC, source
