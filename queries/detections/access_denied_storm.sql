-- id: access_denied_storm
-- title: Burst of access-denied errors
-- severity: medium
-- attack: T1580, T1087.004
-- events: *
-- description: One principal from one source address getting at least min_denied authorization errors
-- description: (AccessDenied, UnauthorizedOperation...) over at least min_distinct_calls distinct APIs within
-- description: window_minutes: someone probing what stolen credentials can do. One hit per burst. Console
-- description: browsing (console sessions, browser user agents) is left out: pages load many APIs a role may lack.
-- description: Request shapes read: none (errorCode, userIdentity, sourceIPAddress, userAgent and
-- description: sessionCredentialFromConsole only).
-- false_positives: A misconfigured application retrying; a policy change that broke a deployment pipeline; posture
-- false_positives: scanners running with a read-only role that lacks some permissions.
-- references: https://attack.mitre.org/techniques/T1580/, https://attack.mitre.org/techniques/T1087/004/
-- param: window_minutes int 10 | Length of the sliding window
-- param: min_denied int 10 | Denied calls within the window
-- param: min_distinct_calls int 5 | Distinct denied APIs within the window
WITH denied AS (
    SELECT event_time, actor, user_identity_access_key_id, source_ip_address, user_agent, aws_region,
           recipient_account_id, event_name, event_id, coalesce(source_ip_address, '') AS ip
    FROM events
    WHERE error_code IS NOT NULL
      AND error_code IN ('AccessDenied', 'AccessDeniedException', 'Client.UnauthorizedOperation',
                         'UnauthorizedOperation', 'UnauthorizedAccess', 'Client.UnauthorizedAccess',
                         'AuthorizationError', 'AuthorizationErrorException', 'Forbidden')
      AND actor IS NOT NULL
      AND NOT coalesce(session_credential_from_console, false)
      AND NOT coalesce(starts_with(user_agent, 'Mozilla/'), false)
),
counted AS (
    SELECT *, count(*) OVER w AS n, count(DISTINCT event_name) OVER w AS names
    FROM denied
    WINDOW w AS (PARTITION BY actor, ip ORDER BY event_time
                 RANGE BETWEEN to_minutes($window_minutes) PRECEDING AND CURRENT ROW)
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       n || ' access-denied errors over ' || names || ' distinct calls in ' || $window_minutes || ' min' AS details
FROM counted
WHERE n >= $min_denied AND names >= $min_distinct_calls
QUALIFY coalesce(event_time - lag(event_time) OVER (PARTITION BY actor, ip ORDER BY event_time, event_id)
                 > to_minutes($window_minutes), true)
ORDER BY event_time
