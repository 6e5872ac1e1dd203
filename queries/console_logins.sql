-- id: console_logins
-- title: Console logins with MFA status and failures
-- description: Every ConsoleLogin with its result, whether MFA was used, the source IP and user agent;
-- description: failures show the error message (e.g. "Failed authentication").
-- param: since timestamp null | Earliest event time (ISO 8601 or relative such as -7d)
-- param: until timestamp null | Latest event time (exclusive)
-- param: user glob * | Actor or user name (glob)
-- param: failures_only bool false | Only failed logins
-- columns: event_time, actor, user_type, account, result, mfa_used, error_message, source_ip, user_agent, login_to
SELECT event_time,
       actor,
       user_identity_type AS user_type,
       recipient_account_id AS account,
       coalesce(json_extract_string(response_elements, '$.ConsoleLogin'),
                CASE WHEN error_code IS NULL THEN NULL ELSE 'Failure' END) AS result,
       json_extract_string(additional_event_data, '$.MFAUsed') AS mfa_used,
       error_message,
       source_ip_address AS source_ip,
       user_agent,
       json_extract_string(additional_event_data, '$.LoginTo') AS login_to
FROM events
WHERE event_name = 'ConsoleLogin'
  AND ($since IS NULL OR event_time >= $since)
  AND ($until IS NULL OR event_time < $until)
  AND (coalesce(actor, '') GLOB $user OR coalesce(user_identity_user_name, '') GLOB $user)
  AND (NOT $failures_only OR coalesce(json_extract_string(response_elements, '$.ConsoleLogin'), 'Failure') <> 'Success')
ORDER BY event_time
