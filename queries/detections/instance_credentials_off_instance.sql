-- id: instance_credentials_off_instance
-- title: EC2 instance credentials used from another address or by a client off the instance
-- severity: high
-- attack: T1552.005, T1078.004
-- events: *
-- description: Calls made with an instance-profile session (an assumed-role session named after an instance id,
-- description: i-...) from a public address other than the one the same credentials (same instance and session
-- description: creation time) were first used from: credentials stolen through the metadata service and replayed
-- description: elsewhere (GuardDuty's InstanceCredentialExfiltration, offline). Calls made through AWS services or
-- description: from private addresses are left out. Also calls made with such credentials by a client that does not
-- description: run on an instance, whatever the address (the same NAT, a VPN...): a browser, a desktop operating
-- description: system or a developer tool in the user agent (desktop_agents). One hit per session, address and kind
-- description: (the first call).
-- description: Request shapes read: userIdentity.arn (assumed-role/ROLE/i-...), sessionContext.attributes.creationDate,
-- description: sourceIPAddress, userAgent.
-- false_positives: NAT gateways with several public addresses; instances whose public address changes without new
-- false_positives: credentials; credentials deliberately shared with another host.
-- references: https://attack.mitre.org/techniques/T1552/005/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.credential-access.ec2-steal-instance-credentials/,
-- references: https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-iam.html
-- param: desktop_agents text mozilla/,windows nt,windows/10,windows/11,os/windows#10,os/windows#11,darwin/,os/macos,macintosh,vscode,jetbrains,pycharm,postman,insomnia | User-agent substrings of clients that do not run on an EC2 instance (case-insensitive)
WITH candidates AS NOT MATERIALIZED (   -- read twice (first address, calls) rather than held in memory
    SELECT event_time, actor, user_identity_access_key_id, source_ip_address, user_agent, aws_region,
           recipient_account_id, event_name, event_id, user_identity_arn,
           coalesce(CAST(session_creation_date AS VARCHAR), '') AS session_key,
           tf_ipv4_int(source_ip_address) AS v4
    FROM events
    WHERE user_identity_type = 'AssumedRole'
      AND user_identity_invoked_by IS NULL
      AND contains(user_identity_arn, '/i-')
),
sessions AS NOT MATERIALIZED (
    SELECT *, regexp_extract(user_identity_arn, '/(i-[0-9a-f]{8,17})$', 1) AS instance_id,
           CASE WHEN v4 IS NOT NULL THEN NOT tfh_private_ipv4(v4)
                ELSE tfh_is_ip(source_ip_address) AND NOT tfh_private_ip(source_ip_address) END AS public,
           coalesce(regexp_matches(lower(user_agent),
                                   array_to_string(list_transform(list_filter(string_split(lower($desktop_agents), ','),
                                                                  lambda a: trim(a) <> ''),
                                                      lambda a: regexp_escape(trim(a))), '|')), false) AS desktop
    FROM candidates
    WHERE regexp_matches(user_identity_arn, '/i-[0-9a-f]{8,17}$')
),
kept AS NOT MATERIALIZED (  -- the calls that can matter: from public addresses, or by a desktop client
    SELECT * FROM sessions WHERE public OR desktop
),
home AS (
    SELECT instance_id, session_key, source_ip_address AS home_ip
    FROM kept
    WHERE public
    QUALIFY row_number() OVER (PARTITION BY instance_id, session_key ORDER BY event_time, event_id) = 1
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       'credentials of instance ' || instance_id || ' used from ' || source_ip_address || ' (' || calls
       || ' call(s))' || CASE WHEN desktop THEN ' by a client that does not run on an instance (' || user_agent || ')'
                              ELSE '' END
       || coalesce('; the instance first used them from ' || home_ip, '') AS details
FROM (
    SELECT s.*, h.home_ip, count(*) OVER (PARTITION BY s.instance_id, s.session_key, s.source_ip_address, s.desktop) AS calls
    FROM kept s LEFT JOIN home h USING (instance_id, session_key)
    WHERE s.desktop OR (s.public AND s.source_ip_address <> h.home_ip)
)
QUALIFY row_number() OVER (PARTITION BY instance_id, session_key, source_ip_address, desktop
                           ORDER BY event_time, event_id) = 1
ORDER BY event_time
