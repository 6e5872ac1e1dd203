-- id: ses_abuse
-- title: SES reconnaissance or sending enabled (spam/phishing hijack)
-- severity: medium
-- attack: T1496.004
-- events: ses.amazonaws.com:GetSendQuota, ses.amazonaws.com:GetAccountSendingEnabled, ses.amazonaws.com:GetAccount,
-- events: ses.amazonaws.com:ListIdentities, ses.amazonaws.com:ListEmailIdentities,
-- events: ses.amazonaws.com:GetIdentityVerificationAttributes, ses.amazonaws.com:GetSendStatistics,
-- events: ses.amazonaws.com:UpdateAccountSendingEnabled, ses.amazonaws.com:PutAccountDetails,
-- events: ses.amazonaws.com:PutAccountSendingAttributes
-- description: One principal calling at least min_distinct distinct SES quota/identity enumeration APIs within
-- description: window_minutes (the check attackers run before sending spam with stolen keys), and any successful
-- description: request to enable sending or leave the SES sandbox. AWS service roles and console browsing are left out.
-- false_positives: Administrators setting up SES; monitoring of the sending quota.
-- references: https://attack.mitre.org/techniques/T1496/004/,
-- references: https://permiso.io/blog/s/aws-ses-pionage-detecting-ses-abuse/
-- param: window_minutes int 60 | Length of the sliding window
-- param: min_distinct int 3 | Distinct SES enumeration APIs within the window
WITH calls AS (
    SELECT *
    FROM events
    WHERE event_source = 'ses.amazonaws.com'
      AND event_name IN ('GetSendQuota', 'GetAccountSendingEnabled', 'GetAccount', 'ListIdentities',
                         'ListEmailIdentities', 'GetIdentityVerificationAttributes', 'GetSendStatistics',
                         'ListVerifiedEmailAddresses', 'UpdateAccountSendingEnabled', 'PutAccountDetails',
                         'PutAccountSendingAttributes')
      AND tfh_ok(error_code, response_elements, event_name)
      AND user_identity_invoked_by IS NULL
      AND NOT coalesce(contains(session_issuer_arn, ':role/aws-service-role/'), false)
      AND NOT coalesce(contains(user_identity_arn, ':assumed-role/AWSServiceRole'), false)
),
enum AS (
    SELECT *, count(DISTINCT event_name) OVER (PARTITION BY actor ORDER BY event_time
                  RANGE BETWEEN to_minutes($window_minutes) PRECEDING AND CURRENT ROW) AS n
    FROM calls
    WHERE starts_with(event_name, 'Get') OR starts_with(event_name, 'List')
      AND NOT coalesce(session_credential_from_console, false)
      AND NOT coalesce(starts_with(user_agent, 'Mozilla/'), false)
),
enum_hits AS (
    SELECT *, n || ' distinct SES enumeration calls in ' || $window_minutes || ' min' AS details
    FROM enum WHERE n >= $min_distinct
    QUALIFY coalesce(event_time - lag(event_time) OVER (PARTITION BY actor ORDER BY event_time, event_id)
                     > to_minutes($window_minutes), true)
),
enable_hits AS (
    SELECT *, CASE event_name WHEN 'PutAccountDetails' THEN 'SES production access requested'
              ELSE 'SES sending enabled (' || event_name || ')' END AS details
    FROM calls
    WHERE event_name = 'PutAccountDetails'
       OR (event_name IN ('UpdateAccountSendingEnabled', 'PutAccountSendingAttributes')
           AND coalesce(request_parameters->>'$.enabled', request_parameters->>'$.sendingEnabled', 'true') = 'true')
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id, details FROM enum_hits
UNION ALL
SELECT event_time, actor, user_identity_access_key_id, source_ip_address, user_agent, aws_region,
       recipient_account_id, event_name, event_id, details FROM enable_hits
ORDER BY event_time
