-- id: access_key_new_source
-- title: Long-term access key used from a new address with a new client
-- severity: high
-- attack: T1078.004
-- events: *
-- description: An IAM user's long-term access key (AKIA...) with at least min_history_hours of history, used from
-- description: a source address it was never used from, with a client (the first two user-agent tokens, e.g.
-- description: aws-cli/1.16.312 Python/2.7.18) it never used: the classic sign of a leaked key in someone else's
-- description: hands. One hit per key and new address: its first call from there.
-- description: Request shapes read: none (userIdentity type and accessKeyId, sourceIPAddress, userAgent and
-- description: sessionCredentialFromConsole only).
-- false_positives: A developer working from a new network who also upgraded their tools; a CI system moved to new
-- false_positives: runners. Compare the address with the key's usual ones (`trailforensics identities`).
-- references: https://attack.mitre.org/techniques/T1078/004/, https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html
-- param: min_history_hours int 12 | Hours between the key's first use and the new use
WITH calls AS NOT MATERIALIZED (   -- read again rather than held: first-seen tables are small, the calls are not
    SELECT event_time, actor, user_identity_access_key_id AS k, source_ip_address AS ip, user_agent, aws_region,
           recipient_account_id, event_name, event_id,
           coalesce(nullif(regexp_extract(user_agent, '^(\S+(\s+\S+)?)', 1), ''), '?') AS client
    FROM events
    WHERE starts_with(user_identity_access_key_id, 'AKIA')
      AND coalesce(user_identity_type, '') = 'IAMUser'
      AND source_ip_address IS NOT NULL
      AND NOT coalesce(session_credential_from_console, false)
),
key_firsts AS (SELECT k, min(event_time) AS key_first FROM calls GROUP BY k),
ip_firsts AS (SELECT k, ip, min(event_time) AS ip_first FROM calls GROUP BY k, ip),
client_firsts AS (SELECT k, client, min(event_time) AS client_first FROM calls GROUP BY k, client),
firsts AS (   -- each call with the first use of its key, of its key from its address and with its client
    SELECT c.*, f.key_first, i.ip_first, l.client_first
    FROM calls c
    JOIN key_firsts f USING (k)
    JOIN ip_firsts i ON i.k = c.k AND i.ip = c.ip AND i.ip_first = c.event_time
    JOIN client_firsts l ON l.k = c.k AND l.client = c.client AND l.client_first = c.event_time
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
