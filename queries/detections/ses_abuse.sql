-- id: ses_abuse
-- title: SES reconnaissance or sending enabled (spam/phishing hijack)
-- severity: medium
-- attack: T1496.004
-- events: ses.amazonaws.com:GetSendQuota, ses.amazonaws.com:GetAccountSendingEnabled, ses.amazonaws.com:GetAccount,
-- events: ses.amazonaws.com:ListIdentities, ses.amazonaws.com:ListEmailIdentities,
-- events: ses.amazonaws.com:GetIdentityVerificationAttributes, ses.amazonaws.com:GetSendStatistics,
-- events: ses.amazonaws.com:ListVerifiedEmailAddresses, ses.amazonaws.com:VerifyEmailIdentity,
-- events: ses.amazonaws.com:VerifyDomainIdentity, ses.amazonaws.com:VerifyEmailAddress,
-- events: ses.amazonaws.com:CreateEmailIdentity, ses.amazonaws.com:UpdateAccountSendingEnabled,
-- events: ses.amazonaws.com:PutAccountDetails, ses.amazonaws.com:PutAccountSendingAttributes
-- description: One principal calling distinct SES quota, account, identity enumeration or identity verification
-- description: APIs within window_minutes (the check attackers run before sending spam with stolen keys): at least
-- description: min_distinct_new when the principal (the role for role sessions) had never used SES before that window
-- description: and first appears in the dataset within new_principal_hours (a fresh key or role: the reconnaissance
-- description: seen in the wild has two calls, e.g. GetSendQuota then ListIdentities), else at least min_distinct;
-- description: one hit per burst. Also any request to enable sending or leave the SES sandbox (PutAccountDetails,
-- description: UpdateAccountSendingEnabled / PutAccountSendingAttributes enabling). Calls refused for lack of
-- description: permission are counted on their own and reported as denied attempts (one severity lower). AWS
-- description: services (Trusted Advisor...) and console browsing are left out.
-- description: Request shapes read: enabled / sendingEnabled (absent means enabled); emailAddress, domain,
-- description: emailIdentity (in the details).
-- false_positives: Administrators setting up SES; monitoring of the sending quota.
-- references: https://attack.mitre.org/techniques/T1496/004/,
-- references: https://permiso.io/blog/s/aws-ses-pionage-detecting-ses-abuse/
-- param: window_minutes int 60 | Length of the sliding window
-- param: min_distinct int 3 | Distinct SES calls within the window by a principal that used SES before
-- param: min_distinct_new int 2 | Distinct SES calls within the window by a principal new to SES and to the dataset
-- param: new_principal_hours int 1 | A principal first seen in the dataset this recently is new (a fresh key or role)
WITH calls AS (
    SELECT *, tfh_denied(error_code) AS denied,
           tfh_principal(user_identity_type, user_identity_arn, session_issuer_arn, actor) AS principal
    FROM events
    WHERE event_source = 'ses.amazonaws.com'
      AND event_name IN ('GetSendQuota', 'GetAccountSendingEnabled', 'GetAccount', 'ListIdentities',
                         'ListEmailIdentities', 'GetIdentityVerificationAttributes', 'GetSendStatistics',
                         'ListVerifiedEmailAddresses', 'VerifyEmailIdentity', 'VerifyDomainIdentity',
                         'VerifyEmailAddress', 'CreateEmailIdentity', 'UpdateAccountSendingEnabled',
                         'PutAccountDetails', 'PutAccountSendingAttributes')
      AND (tfh_ok(error_code, response_elements, event_name) OR tfh_denied(error_code))
      AND user_identity_invoked_by IS NULL
      AND NOT coalesce(contains(session_issuer_arn, ':role/aws-service-role/'), false)
      AND NOT coalesce(contains(user_identity_arn, ':assumed-role/AWSServiceRole'), false)
),
first_use AS (  -- when each principal (a role, not its sessions) first called SES, and first did anything
    SELECT c.principal, c.first_time, p.first_seen
    FROM (SELECT principal, min(event_time) AS first_time FROM calls GROUP BY principal) c
    LEFT JOIN (SELECT tfh_principal(user_identity_type, user_identity_arn, session_issuer_arn, actor) AS principal,
                      min(event_time) AS first_seen
               FROM main.events   -- whole-dataset baseline (never narrowed)
               WHERE user_identity_arn IN (SELECT principal FROM calls) OR session_issuer_arn IN (SELECT principal FROM calls)
               GROUP BY 1) p USING (principal)
),
enum AS (
    SELECT c.*, event_time - f.first_time <= to_minutes($window_minutes)
                    AND event_time - f.first_seen <= to_hours($new_principal_hours) AS new_principal,
           count(DISTINCT event_name) OVER (PARTITION BY c.actor, denied ORDER BY event_time
                  RANGE BETWEEN to_minutes($window_minutes) PRECEDING AND CURRENT ROW) AS n
    FROM calls c JOIN first_use f USING (principal)
    WHERE (starts_with(event_name, 'Get') OR starts_with(event_name, 'List') OR starts_with(event_name, 'Verify')
           OR event_name = 'CreateEmailIdentity')
      AND NOT coalesce(session_credential_from_console, false)
      AND NOT coalesce(starts_with(user_agent, 'Mozilla/'), false)
),
enum_hits AS (
    SELECT *, n || ' distinct SES calls in ' || $window_minutes || ' min'
              || CASE WHEN new_principal THEN ' by a principal new to SES and to the dataset' ELSE '' END
              || CASE WHEN denied THEN ' (denied: ' || error_code || ')' ELSE '' END AS details
    FROM enum
    WHERE n >= CASE WHEN new_principal THEN $min_distinct_new ELSE $min_distinct END
    QUALIFY coalesce(event_time - lag(event_time) OVER (PARTITION BY actor, denied ORDER BY event_time, event_id)
                     > to_minutes($window_minutes), true)
),
enable_hits AS (
    SELECT *, CASE event_name WHEN 'PutAccountDetails' THEN 'SES production access requested'
              ELSE 'SES sending enabled (' || event_name || ')' END
              || CASE WHEN denied THEN ' (denied: ' || error_code || ')' ELSE '' END AS details
    FROM calls
    WHERE event_name = 'PutAccountDetails'
       OR (event_name IN ('UpdateAccountSendingEnabled', 'PutAccountSendingAttributes')
           AND coalesce(request_parameters->>'$.enabled', request_parameters->>'$.sendingEnabled', 'true') = 'true')
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id, details, denied AS attempt
FROM enum_hits
UNION ALL
SELECT event_time, actor, user_identity_access_key_id, source_ip_address, user_agent, aws_region,
       recipient_account_id, event_name, event_id, details, denied
FROM enable_hits
ORDER BY event_time
