-- id: access_key_new_source
-- title: Long-term access key used from a new address with a new client
-- severity: high
-- attack: T1078.004
-- events: *
-- description: An IAM user's long-term access key (AKIA...) with at least min_history_hours of history, used from
-- description: a source address it was never used from, with a client (the first two user-agent tokens, e.g.
-- description: aws-cli/1.16.312 Python/2.7.18) it never used: the classic sign of a leaked key in someone else's
-- description: hands. One hit per key and new address: its first call from there.
-- false_positives: A developer working from a new network who also upgraded their tools; a CI system moved to new
-- false_positives: runners. Compare the address with the key's usual ones (`trailforensics identities`).
-- references: https://attack.mitre.org/techniques/T1078/004/, https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html
-- param: min_history_hours int 12 | Hours between the key's first use and the new use
WITH calls AS (
    SELECT event_time, actor, user_identity_access_key_id AS k, source_ip_address AS ip, user_agent, aws_region,
           recipient_account_id, event_name, event_id,
           coalesce(nullif(regexp_extract(user_agent, '^(\S+(\s+\S+)?)', 1), ''), '?') AS client
    FROM events
    WHERE starts_with(user_identity_access_key_id, 'AKIA')
      AND coalesce(user_identity_type, '') = 'IAMUser'
      AND source_ip_address IS NOT NULL
      AND NOT coalesce(session_credential_from_console, false)
),
firsts AS (
    SELECT *,
           min(event_time) OVER (PARTITION BY k) AS key_first,
           min(event_time) OVER (PARTITION BY k, ip) AS ip_first,
           min(event_time) OVER (PARTITION BY k, client) AS client_first
    FROM calls
)
SELECT event_time, actor, k AS access_key, ip AS source_ip, user_agent, aws_region AS region,
       recipient_account_id AS account, event_name, event_id,
       'first call of ' || k || ' from ' || ip || ' with client ' || client || ', '
       || CAST(date_diff('hour', key_first, event_time) AS VARCHAR) || ' h after the key was first seen' AS details
FROM firsts
WHERE event_time = ip_first AND event_time = client_first
  AND event_time >= key_first + to_hours($min_history_hours)
QUALIFY row_number() OVER (PARTITION BY k, ip ORDER BY event_time, event_id) = 1
ORDER BY event_time
