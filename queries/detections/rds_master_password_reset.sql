-- id: rds_master_password_reset
-- title: Database master password reset
-- severity: medium
-- attack: T1098, T1556
-- events: rds.amazonaws.com:ModifyDBInstance, rds.amazonaws.com:ModifyDBCluster
-- description: The master user password of an RDS instance or Aurora cluster changed through the API: whoever
-- description: changed it can log in to the database as its owner and keep that access (persistence), without any
-- description: IAM change. Low when the password is handed to Secrets Manager (manageMasterUserPassword) or rotated
-- description: by a service on the caller's behalf. Refused calls are denied attempts (one severity lower).
-- description: Request shapes read: masterUserPassword (logged masked), manageMasterUserPassword,
-- description: dBInstanceIdentifier / dBClusterIdentifier.
-- false_positives: Administrators rotating the master password by hand; password recovery after a lost secret.
-- references: https://attack.mitre.org/techniques/T1098/,
-- references: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ModifyInstance.Settings.html
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       'master password of ' || coalesce(request_parameters->>'$.dBInstanceIdentifier',
                                         request_parameters->>'$.dBClusterIdentifier', '?')
       || CASE WHEN json_type(request_parameters, '$.masterUserPassword') IS NOT NULL THEN ' reset'
               ELSE ' handed to Secrets Manager' END
       || CASE WHEN tfh_denied(error_code) THEN ' (denied: ' || error_code || ')' ELSE '' END AS details,
       CASE WHEN json_type(request_parameters, '$.masterUserPassword') IS NULL OR user_identity_invoked_by IS NOT NULL
            THEN 'low' END AS severity,
       tfh_denied(error_code) AS attempt
FROM events
WHERE event_source = 'rds.amazonaws.com' AND event_name IN ('ModifyDBInstance', 'ModifyDBCluster')
  AND (json_type(request_parameters, '$.masterUserPassword') IS NOT NULL
       OR coalesce(request_parameters->>'$.manageMasterUserPassword', '') = 'true')
  AND (error_code IS NULL OR tfh_denied(error_code))
ORDER BY event_time
