-- id: leave_organization
-- title: Attempt to leave the AWS Organization
-- severity: medium
-- attack: T1666
-- events: organizations.amazonaws.com:LeaveOrganization
-- description: LeaveOrganization calls, successful or not: an account leaving its organisation escapes the
-- description: service control policies and the organisation trail. Failed attempts are reported too (the attempt
-- description: itself is the signal).
-- description: Request shapes read: none (eventName and errorCode only: the attempt itself is the signal).
-- false_positives: Planned account transfers between organisations.
-- references: https://attack.mitre.org/techniques/T1666/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.defense-evasion.organizations-leave/
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       'LeaveOrganization ' || CASE WHEN error_code IS NULL THEN 'succeeded' ELSE 'attempted (' || error_code || ')' END
       AS details
FROM events
WHERE event_source = 'organizations.amazonaws.com' AND event_name = 'LeaveOrganization'
ORDER BY event_time
